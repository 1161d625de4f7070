using System.Collections.Concurrent;
using System.Collections.Frozen;
using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// One live agent connection: identity, capacity, the pending-task count and the statistics routing
/// reads. The pending count changes only through <see cref="TryAcquireSlot"/> and <see cref="ReleaseSlot"/>,
/// lock-free, and never exceeds <see cref="MaxConcurrency"/>.
/// Every attempt's end feeds, in one place (<see cref="RecordCompletion"/> / <see cref="RecordTimeout(string, double)"/>):
/// the peak-EWMA latency of the method, the trust score, and the circuit breaker with its rolling success window.
/// A disconnect records nothing: the state object leaves with its connection, and a re-registered agent starts
/// afresh (default latency, initial trust, closed circuit, slow start).
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
        IReadOnlyDictionary<string, string> metadata, DateTimeOffset connectedAt, AgentHealthPolicy? policy = null)
    {
        AgentId = agentId;
        ConnectionId = connectionId;
        ConnectedAt = connectedAt;
        Policy = policy ?? AgentHealthPolicy.Default;
        Circuit = new CircuitBreaker(Policy, Policy.Time.GetTimestamp());
        _capabilities = [.. capabilities];
        _latency = BuildLatency(_capabilities, null, Policy);
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

    /// <summary>Latency decay, slow start and breaker settings, and the clock they are measured on.</summary>
    public AgentHealthPolicy Policy { get; }

    /// <summary>The agent's circuit breaker and rolling success window.</summary>
    public CircuitBreaker Circuit { get; }

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

    public void RecordLoad(Aicp.Protocol.AgentLoadReport report, DateTimeOffset at) =>
        _reportedLoad = new ReportedLoad(report, at, Policy.Time.GetTimestamp());

    /// <summary>
    /// Tasks the agent says it holds beyond what the hub sent it (its own queue), from a report younger than
    /// <see cref="ReportedLoadFreshness"/>; 0 without a fresh report.
    /// </summary>
    public int ReportedQueueDepth(long now)
    {
        var load = _reportedLoad;
        if (load?.Report.QueueDepth is not { } depth || now - load.ReceivedTimestamp > Policy.Time.TimestampFrequency * ReportedLoadFreshness.TotalSeconds)
        {
            return 0;
        }

        return depth;
    }

    /// <summary>How long a load report counts for routing: three of the SDK's default 5 s report intervals.</summary>
    public static readonly TimeSpan ReportedLoadFreshness = TimeSpan.FromSeconds(15);

    /// <summary>Whether routing may give this agent one more task.</summary>
    public bool HasFreeSlot => !_draining && !_removed && Pending < _maxConcurrency;

    /// <summary>
    /// Takes one slot if the agent has one free and its circuit lets the task through (closed, or the one
    /// half-open probe; anything in <paramref name="panic"/>, when every agent of the capability is open).
    /// The caller must call <see cref="ReleaseSlot"/> exactly once after a true.
    /// </summary>
    public bool TryAcquireSlot(bool panic = false)
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
                break;
            }
        }

        if (Circuit.StoredState == CircuitState.Closed || Circuit.TryAdmit(Policy.Time.GetTimestamp(), panic))
        {
            return true;
        }

        ReleaseSlot();
        return false;
    }

    public void ReleaseSlot()
    {
        var after = Interlocked.Decrement(ref _pending);
        System.Diagnostics.Debug.Assert(after >= 0, "pending count went negative");
    }

    public LatencyEstimate? LatencyFor(string method) => _latency.GetValueOrDefault(method);

    /// <summary>The peak-EWMA latency estimate for the method at <paramref name="now"/>, or the default without history.</summary>
    public double LatencyMs(string method, long now) =>
        _latency.TryGetValue(method, out var estimate) ? estimate.Estimate(now) : Policy.DefaultLatencyMs;

    /// <summary>Slow-start share factor in [floor, 1]: ramps up after registration and after the circuit closes.</summary>
    public double SlowStart(long now) => Policy.SlowStart(Circuit.ActiveSince, now);

    /// <summary>Success rate over the breaker's rolling window (1 without recent history).</summary>
    public double SuccessRate(long now) => Circuit.SuccessRate(now);

    public IEnumerable<KeyValuePair<string, LatencyEstimate>> Latencies => _latency;

    /// <summary>An attempt ended with the agent's answer: success or agent error, after <paramref name="latencyMs"/>.</summary>
    public void RecordCompletion(string method, double latencyMs, bool ok, DateTimeOffset at)
    {
        var now = Policy.Time.GetTimestamp();
        Interlocked.Exchange(ref _lastCompletionTicks, at.UtcTicks);
        LatencyFor(method)?.Record(latencyMs, now);
        if (ok)
        {
            Interlocked.Increment(ref _completed);
            Trust.Success();
            Circuit.OnSuccess(now);
        }
        else
        {
            Interlocked.Increment(ref _failed);
            Trust.Error();
            Circuit.OnFailure(now);
        }
    }

    /// <summary>
    /// An attempt timed out after <paramref name="elapsedMs"/>. The elapsed time goes into the latency
    /// estimate as a sample (the agent was at least that slow, and peak EWMA takes it at once), so a
    /// stalled agent looks slow before its breaker opens.
    /// </summary>
    public void RecordTimeout(string method, double elapsedMs)
    {
        LatencyFor(method)?.Record(elapsedMs, Policy.Time.GetTimestamp());
        RecordTimeout();
    }

    /// <summary>A timeout without a latency sample: trust and breaker only.</summary>
    public void RecordTimeout()
    {
        Interlocked.Increment(ref _timedOut);
        Trust.Timeout();
        Circuit.OnFailure(Policy.Time.GetTimestamp());
    }

    /// <summary>Re-registration on the same connection: new capabilities and limits; counts and statistics stay.</summary>
    public void Update(IReadOnlyList<string> capabilities, int maxConcurrency, IReadOnlyDictionary<string, string> metadata)
    {
        _capabilities = [.. capabilities];
        _latency = BuildLatency(_capabilities, _latency, Policy);
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

    private static FrozenDictionary<string, LatencyEstimate> BuildLatency(string[] capabilities, FrozenDictionary<string, LatencyEstimate>? previous,
        AgentHealthPolicy policy)
    {
        var map = new Dictionary<string, LatencyEstimate>(capabilities.Length, StringComparer.Ordinal);
        foreach (var capability in capabilities)
        {
            map[capability] = previous?.GetValueOrDefault(capability) ?? new LatencyEstimate(policy);
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>A load report and when the hub received it.</summary>
internal sealed record ReportedLoad(Aicp.Protocol.AgentLoadReport Report, DateTimeOffset ReceivedAt, long ReceivedTimestamp);
