using System.Text.Json.Serialization;

namespace Aicp.Hub.FrontDoors.OpenAi;

// OpenAI's response objects as the door writes them (names in snake_case by OpenAiJson.Options), their fields in
// OpenAI's order (JsonPropertyOrder puts "id" and "object" first). A null written as OpenAI writes it (a chunk's
// finish_reason) is declared without JsonIgnore; one OpenAI leaves out carries it.

/// <summary>Tokens counted by the agent; <c>total_tokens</c> is their sum.</summary>
internal sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>A <c>chat.completion</c>: the whole answer of a request without <c>stream</c>.</summary>
internal sealed record ChatCompletion(
    [property: JsonPropertyOrder(-2)] string Id, long Created, string Model, IReadOnlyList<ChatCompletionChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatUsage? Usage)
{
    [JsonPropertyOrder(-1)]
    public string Object => "chat.completion";
}

internal sealed record ChatCompletionChoice(int Index, AssistantMessage Message, string FinishReason);

internal sealed record AssistantMessage(string Content)
{
    [JsonPropertyOrder(-1)]
    public string Role => "assistant";
}

/// <summary>A <c>chat.completion.chunk</c>: one server-sent event of a streamed answer.</summary>
internal sealed record ChatCompletionChunk(
    [property: JsonPropertyOrder(-2)] string Id, long Created, string Model, IReadOnlyList<ChatCompletionChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatUsage? Usage = null)
{
    [JsonPropertyOrder(-1)]
    public string Object => "chat.completion.chunk";
}

internal sealed record ChatCompletionChunkChoice(int Index, ChunkDelta Delta, string? FinishReason);

internal sealed record ChunkDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

/// <summary>The answer of <c>GET /v1/models</c>.</summary>
internal sealed record ModelList(IReadOnlyList<ModelEntry> Data)
{
    [JsonPropertyOrder(-1)]
    public string Object => "list";
}

/// <summary>
/// One model: OpenAI's <c>id</c>, <c>object</c>, <c>created</c> and <c>owned_by</c>, plus the hub's own: the capability it
/// routes to, whether the model map names it, and how many live agents serve that capability.
/// </summary>
internal sealed record ModelEntry([property: JsonPropertyOrder(-4)] string Id, [property: JsonPropertyOrder(-2)] long Created, string Capability, bool Mapped, int Agents)
{
    [JsonPropertyOrder(-3)]
    public string Object => "model";

    [JsonPropertyOrder(-1)]
    public string OwnedBy => "aicp";
}
