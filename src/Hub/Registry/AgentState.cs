using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Aicp.Hub.Registry;

/// <summary>
/// One live agent connection: identity, capacity, the pending-task count and the statistics routing
/// reads. The pending count changes only through <see cref="TryAcquireSlot"/> and <see cref="ReleaseSlot"/>,
/// lock-free, and never exceeds <see cref="MaxConcurrency"/>.
/// </summary>
internal sealed class AgentState
{
    private readonly ConcurrentDictionary<IAgentAssignment, byte> _assignments = new(ReferenceEqualityComparer.Instance);
    private volatile FrozenDictionary<string, LatencyEstimate> _latency;
    private volatile string[] _capabilities;
    private volatile IReadOnlyDictionary<string, string> _metadata;
    private volatile int _maxConcurrency;
    private volatile bool _draining;
    private volatile bool _removed;
    private int _pending;
    private long _completed;
    private long _failed;
    private long _timedOut;
    private long _lastCompletionTicks;
    private volatile ReportedLoad? _reportedLoad;

    public AgentState(string agentId, string connectionId, IReadOnlyList<string> capabilities, int maxConcurrency,
        IReadOnlyDictionary<string, string> metadata, DateTimeOffset connectedAt)
    {
        AgentId = agentId;
        ConnectionId = connectionId;
        ConnectedAt = connectedAt;
        _capabilities = [.. capabilities];
        _latency = BuildLatency(_capabilities, null);
        _maxConcurrency = maxConcurrency;
        _metadata = metadata;
    }

    public string AgentId { get; }

    public string ConnectionId { get; }

    public DateTimeOffset ConnectedAt { get; }

    public IReadOnlyList<string> Capabilities => _capabilities;

    public int MaxConcurrency => _maxConcurrency;

    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    public int Pending => Volatile.Read(ref _pending);

    public bool IsDraining => _draining;

    public bool IsRemoved => _removed;

    public TrustScore Trust { get; } = new();

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>When the last completion arrived, or null.</summary>
    public DateTimeOffset? LastCompletion
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastCompletionTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>The agent's latest self-reported load, or null if it never reported.</summary>
    public ReportedLoad? ReportedLoad => _reportedLoad;

    public void RecordLoad(Aicp.Protocol.AgentLoadReport report, DateTimeOffset at) => _reportedLoad = new ReportedLoad(report, at);

    /// <summary>Whether routing may give this agent one more task.</summary>
    public bool HasFreeSlot => !_draining && !_removed && Pending < _maxConcurrency;

    /// <summary>Takes one slot if the agent has one free; the caller must call <see cref="ReleaseSlot"/> exactly once after.</summary>
    public bool TryAcquireSlot()
    {
        while (true)
        {
            var current = Volatile.Read(ref _pending);
            if (current >= _maxConcurrency || _draining || _removed)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _pending, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void ReleaseSlot()
    {
        var after = Interlocked.Decrement(ref _pending);
        System.Diagnostics.Debug.Assert(after >= 0, "pending count went negative");
    }

    public LatencyEstimate? LatencyFor(string method) => _latency.GetValueOrDefault(method);

    public IEnumerable<KeyValuePair<string, LatencyEstimate>> Latencies => _latency;

    public void RecordCompletion(string method, double latencyMs, bool ok, DateTimeOffset at)
    {
        Interlocked.Exchange(ref _lastCompletionTicks, at.UtcTicks);
        LatencyFor(method)?.Record(latencyMs);
        if (ok)
        {
            Interlocked.Increment(ref _completed);
            Trust.Success();
        }
        else
        {
            Interlocked.Increment(ref _failed);
            Trust.Error();
        }
    }

    public void RecordTimeout()
    {
        Interlocked.Increment(ref _timedOut);
        Trust.Timeout();
    }

    /// <summary>Re-registration on the same connection: new capabilities and limits; counts and statistics stay.</summary>
    public void Update(IReadOnlyList<string> capabilities, int maxConcurrency, IReadOnlyDictionary<string, string> metadata)
    {
        _capabilities = [.. capabilities];
        _latency = BuildLatency(_capabilities, _latency);
        _maxConcurrency = maxConcurrency;
        _metadata = metadata;
        _draining = false;
    }

    public void StartDraining() => _draining = true;

    /// <summary>Records work handed to this agent. False when the agent is already gone (the caller treats the work as lost).</summary>
    public bool Track(IAgentAssignment assignment)
    {
        _assignments.TryAdd(assignment, 0);
        if (_removed)
        {
            return !_assignments.TryRemove(assignment, out _);
        }

        return true;
    }

    public void Untrack(IAgentAssignment assignment) => _assignments.TryRemove(assignment, out _);

    /// <summary>Marks the agent gone and tells every tracked assignment, each once.</summary>
    public void MarkRemoved()
    {
        _removed = true;
        foreach (var assignment in _assignments.Keys)
        {
            if (_assignments.TryRemove(assignment, out _))
            {
                assignment.OnAgentLost();
            }
        }
    }

    private static FrozenDictionary<string, LatencyEstimate> BuildLatency(string[] capabilities, FrozenDictionary<string, LatencyEstimate>? previous)
    {
        var map = new Dictionary<string, LatencyEstimate>(capabilities.Length, StringComparer.Ordinal);
        foreach (var capability in capabilities)
        {
            map[capability] = previous?.GetValueOrDefault(capability) ?? new LatencyEstimate();
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>A load report and when the hub received it.</summary>
internal sealed record ReportedLoad(Aicp.Protocol.AgentLoadReport Report, DateTimeOffset ReceivedAt);
