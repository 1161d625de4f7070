namespace Aicp.Hub.Registry;

/// <summary>
/// The live agents serving one capability, as an immutable array swapped whole on every change, so
/// routing reads it without a lock. Owns the capability's round-robin cursor and its wait queue.
/// </summary>
internal sealed class CapabilityPool
{
    private volatile AgentState[] _agents = [];
    private int _cursor;
    private volatile AgentState? _remembered;

    public CapabilityPool(string method, int maxQueued)
    {
        Method = method;
        Waiters = new SlotWaitQueue(maxQueued);
    }

    public string Method { get; }

    /// <summary>The current snapshot. Never mutated; replaced under the registry's lock.</summary>
    public AgentState[] Agents => _agents;

    /// <summary>Tasks waiting for a free slot on this capability.</summary>
    public SlotWaitQueue Waiters { get; }

    /// <summary>Advances the round-robin cursor and returns its new value.</summary>
    public int NextCursor() => Interlocked.Increment(ref _cursor);

    /// <summary>
    /// The agent a memory-based strategy judged best at its last decision (one reference, written with a
    /// plain volatile store: a lost update between two concurrent picks costs nothing but a slightly older memory).
    /// </summary>
    public AgentState? Remembered
    {
        get => _remembered;
        set => _remembered = value;
    }

    internal void Replace(AgentState[] agents) => _agents = agents;
}
