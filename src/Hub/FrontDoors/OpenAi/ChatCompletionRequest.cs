using System.Text;
using System.Text.Json;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>One message of a chat, as the agent receives it: its role and its text.</summary>
internal sealed record ChatMessage(string Role, string Content);

/// <summary>
/// The part of an OpenAI chat completion request the door acts on: <c>model</c>, <c>messages</c>, <c>stream</c>,
/// <c>stream_options.include_usage</c>, <c>max_tokens</c> (or <c>max_completion_tokens</c>, the name newer clients send)
/// and <c>temperature</c>. Other fields (<c>user</c>, <c>top_p</c>, <c>seed</c>...) are accepted and not acted on. A
/// message's content is a string, null (an empty text) or an array of <c>{"type":"text","text":...}</c> parts, which
/// are joined; other kinds of part (images, audio) are refused.
/// </summary>
internal sealed record ChatCompletionRequest(string Model, IReadOnlyList<ChatMessage> Messages, bool Stream, bool IncludeUsage, int? MaxTokens, double? Temperature)
{
    /// <summary>The request in <paramref name="body"/>, or null and why not (an error of HTTP status 400).</summary>
    public static ChatCompletionRequest? Read(JsonElement body, out OpenAiError? error)
    {
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Refuse(out error, null, $"The request must be a JSON object; got {body.ValueKind}.");
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } name)
        {
            return Refuse(out error, "model", "'model' is required: a string naming a model (GET /v1/models lists them).");
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return Refuse(out error, "messages", "'messages' is required: a non-empty array of {\"role\",\"content\"} objects.");
        }

        var read = new List<ChatMessage>(messages.GetArrayLength());
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"messages[{read.Count}]";
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                || role.GetString() is not { Length: > 0 } roleName)
            {
                return Refuse(out error, at + ".role", $"{at} must be an object with a string 'role'.");
            }

            if (Content(message, at, out error) is not { } content)
            {
                return null;
            }

            read.Add(new ChatMessage(roleName, content));
        }

        if (!Boolean(body, "stream", out var stream, out error) || !Integer(body, "n", out var n, out error)
            || !Integer(body, "max_completion_tokens", out var maxCompletionTokens, out error) || !Integer(body, "max_tokens", out var maxTokens, out error))
        {
            return null;
        }

        if (n is not (null or 1))
        {
            return Refuse(out error, "n", $"Only one choice per request is served; 'n' is {n}.");
        }

        var max = maxCompletionTokens ?? maxTokens;
        if (max is < 1)
        {
            return Refuse(out error, maxCompletionTokens is null ? "max_tokens" : "max_completion_tokens", $"The most tokens to generate must be at least 1; got {max}.");
        }

        double? temperature = null;
        if (body.TryGetProperty("temperature", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 2)
            {
                return Refuse(out error, "temperature", "'temperature' must be a number within 0..2.");
            }

            temperature = t.GetDouble();
        }

        var includeUsage = body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
                           && options.TryGetProperty("include_usage", out var usage) && usage.ValueKind == JsonValueKind.True;
        return new ChatCompletionRequest(name, read, stream == true, includeUsage, max, temperature);
    }

    /// <summary>A message's text: a string, null (empty), or the text parts of an array joined.</summary>
    private static string? Content(JsonElement message, string at, out OpenAiError? error)
    {
        error = null;
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text")
                    || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                {
                    Refuse(out error, at + ".content", $"{at}.content: only text parts ({{\"type\":\"text\",\"text\":\"...\"}}) are served.");
                    return null;
                }

                text.Append(partText.GetString());
            }

            return text.ToString();
        }

        Refuse(out error, at + ".content", $"{at}.content must be a string, null or an array of text parts; got {content.ValueKind}.");
        return null;
    }

    private static bool Boolean(JsonElement body, string name, out bool? value, out OpenAiError? error)
    {
        error = null;
        value = null;
        if (!body.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = property.GetBoolean();
            return true;
        }

        Refuse(out error, name, $"'{name}' must be true or false; got {property.ValueKind}.");
        return false;
    }

    private static bool Integer(JsonElement body, string name, out int? value, out OpenAiError? error)
    {
        error = null;
        value = null;
        if (!body.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind == JsonValueKind.Number && property.TryGetInt32(out var number))
        {
            value = number;
            return true;
        }

        Refuse(out error, name, $"'{name}' must be an integer; got {property.GetRawText()}.");
        return false;
    }

    private static ChatCompletionRequest? Refuse(out OpenAiError? error, string? param, string message)
    {
        error = OpenAiError.Of(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, message, param);
        return null;
    }
}
