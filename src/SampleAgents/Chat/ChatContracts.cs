using System.Text.Json.Serialization;

namespace Aicp.SampleAgents.Chat;

// The text.chat contract of the hub's OpenAI door (docs/FRONT-DOORS.md, "The agent's side"), in OpenAI's snake_case names.

/// <summary>A <c>text.chat</c> task: the model asked for, the conversation, and the most tokens to answer with.</summary>
public sealed class ChatRequest
{
    public string Model { get; init; } = "";

    public IReadOnlyList<ChatMessage> Messages { get; init; } = [];

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }
}

/// <summary>One message of the conversation: <c>system</c>, <c>user</c>, <c>assistant</c>... and its text.</summary>
public sealed class ChatMessage
{
    public string Role { get; init; } = "";

    public string Content { get; init; } = "";
}

/// <summary>One streamed piece of the answer.</summary>
public sealed class ChatDelta
{
    public string Delta { get; init; } = "";
}

/// <summary>The whole answer, returned after the streamed pieces.</summary>
public sealed class ChatAnswer
{
    public string Content { get; init; } = "";

    /// <summary><c>stop</c>, or <c>length</c> when <see cref="ChatRequest.MaxTokens"/> cut the answer short.</summary>
    [JsonPropertyName("finish_reason")]
    public string FinishReason { get; init; } = "stop";

    public ChatUsage? Usage { get; init; }
}

/// <summary>What the answer cost, in the responder's tokens (words).</summary>
public sealed class ChatUsage
{
    [JsonPropertyName("prompt_tokens")]
    public int PromptTokens { get; init; }

    [JsonPropertyName("completion_tokens")]
    public int CompletionTokens { get; init; }
}
