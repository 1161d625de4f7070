using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol;

namespace Aicp.Hub.Cluster;

/// <summary>
/// One message between two nodes, published on the receiver's inbox channel (<c>{prefix}:inbox:{node}</c>) as JSON:
/// <list type="bullet">
/// <item><c>execute</c> (asker to owner): run attempt <c>attempt</c> of task <c>taskId</c> on the owner's agent
/// <c>agentId</c>, with <c>method</c>, <c>payload</c> and <c>timeoutMs</c>; <c>stream: true</c> when the submitter
/// reads the output as it comes.</item>
/// <item><c>chunk</c> (owner to asker, a streamed attempt): the next chunk of the agent's output, in <c>payload</c>;
/// the chunks of an attempt arrive in order, all before its <c>result</c>.</item>
/// <item><c>refused</c> (owner to asker): the agent could not take it (gone, draining, full, circuit open); nothing ran.</item>
/// <item><c>result</c> (owner to asker): the attempt's end: <c>outcome</c>, and <c>result</c> or <c>error</c>.</item>
/// <item><c>cancel</c> (asker to owner): the asker no longer wants the attempt (its submitter cancelled, or it timed out).</item>
/// </list>
/// <see cref="TryParse"/> refuses anything else: another shape, names or numbers out of range, a type without the
/// fields it needs.
/// </summary>
internal sealed record PeerMessage
{
    public const string Execute = "execute";
    public const string Refused = "refused";
    public const string Result = "result";
    public const string Cancel = "cancel";
    public const string Chunk = "chunk";

    /// <summary>
    /// The largest message a node reads when its hub takes frames of up to <paramref name="maxMessageBytes"/>: a payload of
    /// that size as base64 (MessagePack bytes take 4/3 of their size), plus room for the envelope.
    /// </summary>
    public static int MaxBytesFor(long maxMessageBytes) => (int)Math.Min(int.MaxValue, (maxMessageBytes + 2) / 3 * 4 + (128 << 10));

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("from")]
    public required string From { get; init; }

    [JsonPropertyName("taskId")]
    public required string TaskId { get; init; }

    [JsonPropertyName("attempt")]
    public int Attempt { get; init; }

    [JsonPropertyName("agentId")]
    public string? AgentId { get; init; }

    [JsonPropertyName("method")]
    public string? Method { get; init; }

    [JsonPropertyName("timeoutMs")]
    public int? TimeoutMs { get; init; }

    /// <summary>An execute whose agent streams its output (sent back as <c>chunk</c> messages).</summary>
    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    /// <summary>The task's payload (execute) or a chunk of its output (chunk), in the encoding its writer used.</summary>
    [JsonIgnore]
    public TaskPayload? Payload { get; init; }

    [JsonPropertyName("outcome")]
    public string? Outcome { get; init; }

    /// <summary>The agent's result (result), in the encoding the agent used.</summary>
    [JsonIgnore]
    public TaskPayload? ResultPayload { get; init; }

    // On the wire a payload keeps its encoding: a JSON value as itself, a MessagePack value as its bytes (base64), so an
    // agent on another node receives what it would receive on the submitter's node (a bin stays a bin).

    [JsonInclude, JsonPropertyName("payload")]
    private TaskPayload? JsonPayload { get => Payload is { IsMessagePack: false } p ? p : null; init => Payload ??= value; }

    [JsonInclude, JsonPropertyName("payloadMessagePack")]
    private byte[]? MessagePackPayload { get => Payload is { IsMessagePack: true } p ? p.MessagePack.ToArray() : null; init => Payload ??= FromMessagePack(value); }

    [JsonInclude, JsonPropertyName("result")]
    private TaskPayload? JsonResult { get => ResultPayload is { IsMessagePack: false } p ? p : null; init => ResultPayload ??= value; }

    [JsonInclude, JsonPropertyName("resultMessagePack")]
    private byte[]? MessagePackResult { get => ResultPayload is { IsMessagePack: true } p ? p.MessagePack.ToArray() : null; init => ResultPayload ??= FromMessagePack(value); }

    [JsonPropertyName("error")]
    public TaskError? Error { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, MaxDepth = TaskPayload.MaxDepth + 4,
    };

    private static readonly HashSet<string> Outcomes =
    [
        AttemptOutcomes.Completed, AttemptOutcomes.Error, AttemptOutcomes.Timeout, AttemptOutcomes.Disconnected, AttemptOutcomes.Cancelled,
        AttemptOutcomes.Superseded,
    ];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>The message, or null with the reason it was refused (over <paramref name="maxBytes"/>, or not a message a node writes).</summary>
    public static PeerMessage? TryParse(ReadOnlySpan<byte> json, int maxBytes, out string? problem)
    {
        if (json.Length > maxBytes)
        {
            problem = $"{json.Length} bytes; at most {maxBytes}.";
            return null;
        }

        PeerMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<PeerMessage>(json, Json);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException or MessagePack.MessagePackSerializationException)
        {
            problem = "not a node message: " + ex.Message;
            return null;
        }

        problem = message is null ? "null." : Problem(message);
        return problem is null ? message : null;
    }

    private static TaskPayload? FromMessagePack(byte[]? bytes) => bytes is null ? null : TaskPayload.FromMessagePack(bytes);

    private static string? Problem(PeerMessage m) => m switch
    {
        _ when !Names.IsValid(m.From) => "a sender that is not a node name.",
        _ when m.TaskId is not { Length: > 0 and <= 64 } || !m.TaskId.All(char.IsAsciiLetterOrDigit) => "a task id that is not one.",
        { Attempt: < 1 or > 1000 } => $"attempt {m.Attempt}.",
        { Type: Execute } when !Names.IsValid(m.AgentId) || !Names.IsValid(m.Method) => "an execute without a valid agent or method.",
        { Type: Execute, TimeoutMs: not (>= ProtocolDefaults.MinTimeoutMs and <= ProtocolDefaults.MaxTimeoutMs) } => "an execute without a valid timeoutMs.",
        { Type: Result } when m.Outcome is null || !Outcomes.Contains(m.Outcome) => "a result without a valid outcome.",
        { Type: Refused } when m.Error is null => "a refusal without its error.",
        { Type: Chunk } when m.Payload is null => "a chunk without its payload.",
        { Type: Execute or Refused or Result or Cancel or Chunk } => null,
        _ => $"an unknown type '{(m.Type.Length <= 32 ? m.Type : m.Type[..32] + "...")}'.",
    };
}
