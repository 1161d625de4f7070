namespace Aicp.Hub.Cluster;

/// <summary>
/// Another node's agent as one cluster view shows it, and its load as this node estimates it: the pending count its
/// node published, corrected by the change in this node's own attempts on it since the view was read
/// (<see cref="Load"/>). Entries of later views share the agent's <see cref="RemoteSends"/>, so an attempt sent under
/// one view still counts under the next.
/// </summary>
internal sealed class RemoteAgent
{
    private readonly int _sentAtView;
    private const long NotRefused = long.MinValue;
    private long _refusedAt = NotRefused;

    public RemoteAgent(string node, ClusterAgent agent, RemoteSends sends)
    {
        Node = node;
        Agent = agent;
        Sends = sends;
        _sentAtView = sends.InFlight;
    }

    public string Node { get; }

    public ClusterAgent Agent { get; }

    /// <summary>This node's attempts on the agent that have not ended.</summary>
    public RemoteSends Sends { get; }

    /// <summary>
    /// The agent's pending count as published, plus this node's attempts on it that started since the view was read,
    /// minus those of its attempts that ended since (never below 0). Stale by at most a heartbeat for the other
    /// nodes' attempts; exact for this node's own.
    /// </summary>
    public int Load => Math.Max(0, Agent.Pending + Sends.InFlight - _sentAtView);

    /// <summary>
    /// Whether the agent has no free slot as far as this node knows at <paramref name="now"/> (a timestamp of the
    /// dispatcher's clock): by its load, or because its node refused an attempt less than <paramref name="hold"/> ticks ago.
    /// </summary>
    public bool IsFull(long now, long hold)
    {
        var refusedAt = Volatile.Read(ref _refusedAt);
        return (refusedAt != NotRefused && now - refusedAt < hold) || Load >= Agent.MaxConcurrency;
    }

    /// <summary>
    /// The agent's node refused an attempt at <paramref name="now"/> (it was full, draining or gone there): fresher news
    /// than the view, so the agent counts as full for a short hold, instead of drawing the refusals of every task
    /// that picks it meanwhile.
    /// </summary>
    public void Refused(long now) => Volatile.Write(ref _refusedAt, now);
}

/// <summary>This node's attempts on one remote agent that have not ended; changed with <see cref="Interlocked"/> only.</summary>
internal sealed class RemoteSends
{
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Sent() => Interlocked.Increment(ref _inFlight);

    public void Ended() => Interlocked.Decrement(ref _inFlight);
}
