using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>What a <c>text.chat</c> agent answered: its text, why it stopped, and the tokens counted, when it counted them.</summary>
internal sealed record ChatAnswer(string Content, string FinishReason, ChatUsage? Usage);

/// <summary>
/// The contract between the OpenAI door and the agent serving a model (docs/FRONT-DOORS.md, "The agent's side"): the
/// task's payload is <c>{"model","messages":[{"role","content"}],"max_tokens"?,"temperature"?}</c>; the agent streams
/// <c>{"delta":"text"}</c> chunks and returns <c>{"content","finish_reason"?,"usage"?:{"prompt_tokens","completion_tokens"}}</c>.
/// A plain JSON string is taken for a chunk's delta and for a result's content as well.
/// </summary>
internal static class ChatAgentContract
{
    /// <summary>The finish reasons an answer may give; another is answered as <c>stop</c>, the default.</summary>
    private static readonly string[] FinishReasons = ["stop", "length", "content_filter"];

    /// <summary>The task's payload for <paramref name="request"/>.</summary>
    public static TaskPayload Payload(ChatCompletionRequest request) => TaskPayload.FromJson(JsonSerializer.SerializeToElement(
        new ChatTaskPayload(request.Model, [.. request.Messages], request.MaxTokens, request.Temperature), OpenAiJson.Options));

    /// <summary>The text of a chunk the agent streamed; null for a chunk that is neither <c>{"delta":"..."}</c> nor a string.</summary>
    public static string? Delta(TaskPayload? chunk) => chunk?.Json switch
    {
        { ValueKind: JsonValueKind.String } text => text.GetString(),
        { ValueKind: JsonValueKind.Object } value when value.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.String => delta.GetString(),
        _ => null,
    };

    /// <summary>The agent's answer in <paramref name="result"/>; null when it is not one (no string <c>content</c>, a malformed <c>usage</c>).</summary>
    public static ChatAnswer? Answer(TaskPayload? result)
    {
        switch (result?.Json)
        {
            case { ValueKind: JsonValueKind.String } text:
                return new ChatAnswer(text.GetString()!, FinishReasons[0], null);
            case { ValueKind: JsonValueKind.Object } value when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String:
                var finish = value.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String
                    && Array.IndexOf(FinishReasons, reason.GetString()) is var i and >= 0 ? FinishReasons[i] : FinishReasons[0];
                if (!value.TryGetProperty("usage", out var usage) || usage.ValueKind == JsonValueKind.Null)
                {
                    return new ChatAnswer(content.GetString()!, finish, null);
                }

                return Count(usage, "prompt_tokens") is { } prompt && Count(usage, "completion_tokens") is { } completion
                    ? new ChatAnswer(content.GetString()!, finish, new ChatUsage(prompt, completion, prompt + completion))
                    : null;
            default:
                return null;
        }
    }

    /// <summary>Why <paramref name="result"/> is not an answer, for the caller.</summary>
    public static OpenAiError NotAnAnswer(TaskResult result) => OpenAiError.Of(StatusCodes.Status502BadGateway, OpenAiError.InvalidAgentResult,
        $"Agent '{result.AgentId}' answered with {Describe(result.Result)}, not a chat answer {{\"content\":\"...\",\"finish_reason\"?,\"usage\"?:{{\"prompt_tokens\",\"completion_tokens\"}}}}.");

    private static int? Count(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var count) && count.TryGetInt32(out var n) && n >= 0 ? n : null;

    private static string Describe(TaskPayload? result) => result is null ? "no result" : $"a JSON {result.Json.ValueKind}";

    /// <summary>The payload's shape: what a <c>text.chat</c> agent binds.</summary>
    private sealed record ChatTaskPayload(
        string Model,
        ChatMessage[] Messages,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MaxTokens,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Temperature);
}
