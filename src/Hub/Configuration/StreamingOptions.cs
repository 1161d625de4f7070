namespace Aicp.Hub.Configuration;

/// <summary>Streamed results (<c>Aicp:Streaming</c>): how much a stream may buffer for a slow submitter, and for how long.</summary>
public sealed class StreamingOptions
{
    /// <summary>
    /// Chunks a stream holds for its submitter before the agent's next <c>Partial</c> waits (back-pressure). With
    /// <see cref="MaxChunkBytes"/> this bounds a stream's memory. The default value is 64.
    /// </summary>
    public int MaxBufferedChunks { get; set; } = 64;

    /// <summary>Largest chunk, as received (MessagePack or UTF-8 JSON bytes); a larger one ends its attempt with <c>chunk_too_large</c>. The default value is 64 KiB.</summary>
    public int MaxChunkBytes { get; set; } = 64 << 10;

    /// <summary>
    /// How long an agent's chunk may wait for room in a full buffer; then the submitter is too slow and the task ends
    /// <c>failed</c> / <c>slow_consumer</c>. The default value is 10 s.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
