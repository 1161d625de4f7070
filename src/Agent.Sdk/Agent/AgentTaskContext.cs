using System.Text.Json;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>One assignment as a handler sees it.</summary>
public sealed class AgentTaskContext
{
    private readonly PayloadSerializer _serializer;
    private readonly Func<TaskPartial, CancellationToken, Task<bool>>? _sendPartial;
    private bool _streamClosed;

    internal AgentTaskContext(TaskAssignment assignment, PayloadSerializer serializer, Func<TaskPartial, CancellationToken, Task<bool>>? sendPartial = null)
    {
        _serializer = serializer;
        _sendPartial = sendPartial;
        TaskId = assignment.TaskId;
        Attempt = assignment.Attempt;
        Method = assignment.Method;
        Payload = assignment.Payload;
        Timeout = TimeSpan.FromMilliseconds(assignment.TimeoutMs);
        IsStreaming = assignment.Stream == true && sendPartial is not null;
    }

    /// <summary>
    /// True when the submitter reads this task's output as it is produced (it called <c>SubmitStream</c>): chunks written
    /// with <see cref="WriteChunkAsync{T}"/> reach it before the result. False otherwise: writing a chunk does nothing.
    /// </summary>
    public bool IsStreaming { get; }

    /// <summary>
    /// Sends one chunk of the task's output to the submitter, ahead of the result the handler returns (which still
    /// carries the whole answer). Returns once the hub has taken the chunk: a slow submitter slows the handler down
    /// (back-pressure). Await each write before the next; chunks are delivered in the order written. Does nothing when
    /// <see cref="IsStreaming"/> is false, or once the hub has refused a chunk (the attempt no longer takes output; the
    /// handler's token is then cancelled shortly). A chunk is at most <c>Aicp:Streaming:MaxChunkBytes</c> (64 KiB) in the
    /// connection's protocol; a larger one ends the attempt with <c>chunk_too_large</c>.
    /// </summary>
    /// <returns>True when the chunk was taken for the submitter.</returns>
    /// <exception cref="Exception">The connection to the hub failed mid-call (the hub fails the attempt over or ends it).</exception>
    public async ValueTask<bool> WriteChunkAsync<T>(T chunk, CancellationToken cancellationToken = default)
    {
        if (!IsStreaming || _streamClosed)
        {
            return false;
        }

        var partial = new TaskPartial { TaskId = TaskId, Attempt = Attempt, Chunk = _serializer.Serialize(chunk, typeof(T)) };
        var taken = await _sendPartial!(partial, cancellationToken).ConfigureAwait(false);
        _streamClosed = !taken;
        return taken;
    }

    /// <summary>The task's id, the same in every attempt.</summary>
    public string TaskId { get; }

    /// <summary>1 for the first dispatch; higher after failovers.</summary>
    public int Attempt { get; }

    /// <summary>The capability invoked.</summary>
    public string Method { get; }

    /// <summary>How long the hub waits for this attempt.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// The submitter's payload in the form it arrived in (MessagePack bytes or JSON); null when there is none. Return it
    /// from a handler to send it back unchanged.
    /// </summary>
    public TaskPayload? Payload { get; }

    /// <summary>
    /// The payload bound to <typeparamref name="T"/>, straight from the form it arrived in (no JSON step over
    /// MessagePack; byte buffers from <c>bin</c> or base64). Default when there is no payload.
    /// </summary>
    /// <exception cref="AgentTaskException">With code <c>invalid_payload</c> when the payload does not bind.</exception>
    public T? GetPayload<T>()
    {
        try
        {
            return _serializer.Deserialize<T>(Payload);
        }
        catch (JsonException ex)
        {
            throw new AgentTaskException(ErrorCodes.InvalidPayload, $"The payload does not bind to {typeof(T).Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// The bytes of the payload's top-level property <paramref name="name"/> (case-insensitive) without binding the rest:
    /// a MessagePack <c>bin</c> as a slice of the received bytes (no copy), or a base64 string decoded. False when the
    /// property is missing or holds neither.
    /// </summary>
    public bool TryGetBinary(string name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        bytes = default;
        return Payload?.TryGetBinary(name, out bytes) == true;
    }

    /// <summary>The payload itself as bytes: a MessagePack <c>bin</c> (no copy), or a base64 string (decoded).</summary>
    public bool TryGetBinary(out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        return Payload?.TryGetBinary(null, out bytes) == true;
    }

    /// <summary>The integer value of the payload's top-level property <paramref name="name"/> (case-insensitive), without binding the rest.</summary>
    public bool TryGetInt64(string name, out long value)
    {
        value = 0;
        return Payload?.TryGetInt64(name, out value) == true;
    }
}
