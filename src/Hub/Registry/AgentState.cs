using System.Collections.Concurrent;
using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// One live agent connection, composed of one part per concern:
/// <list type="bullet">
/// <item>identity and lifecycle (here): id, connection, capabilities, metadata, draining, gone, the assignments in flight;</item>
/// <item><see cref="AgentSlots"/>: the pending count and its limit (lock-free, never above <see cref="MaxConcurrency"/>);</item>
/// <item>per capability (<see cref="AgentCapability"/>): the peak-EWMA latency and the service-time model;</item>
/// <item><see cref="Health"/>: the trust score, the circuit breaker with its rolling success window, slow start, outcome counts;</item>
/// <item>the agent's own load report (<see cref="ReportedLoad"/>).</item>
/// </list>
/// Every attempt's end feeds them in one place (<see cref="RecordCompletion"/> / <see cref="RecordTimeout(string, double, int)"/>).
/// A disconnect records nothing: the state object leaves with its connection, and a re-registered agent starts
/// afresh (default latency, initial trust, closed circuit, slow start).
/// </summary>
internal sealed class AgentState
{
    private readonly ConcurrentDictionary<IAgentAssignment, byte> _assignments = new(ReferenceEqualityComparer.Instance);
    private volatile AgentCapability[] _perCapability;
    private volatile string[] _capabilities;
    private volatile IReadOnlyDictionary<string, string> _metadata;
    private volatile bool _draining;
    private volatile bool _removed;
    private volatile bool _circuitClosed = true;
    private volatile ReportedLoad? _reportedLoad;
    private AgentSlots _slots;
    private int _reportedQueue;
    private long _reportedQueueUntil;

    public AgentState(string agentId, string connectionId, IReadOnlyList<string> capabilities, int maxConcurrency,
        IReadOnlyDictionary<string, string> metadata, DateTimeOffset connectedAt, AgentHealthPolicy? policy = null)
    {
        AgentId = agentId;
        ConnectionId = connectionId;
        ConnectedAt = connectedAt;
        Policy = policy ?? AgentHealthPolicy.Default;
        Health = new AgentHealth(Policy, agentId, state => _circuitClosed = state == CircuitState.Closed);
        Circuit = Health.Circuit;
        _slots = new AgentSlots(maxConcurrency);
        _capabilities = [.. capabilities];
        _perCapability = BuildPerCapability(_capabilities, null, Policy);
        _metadata = metadata;
    }

    public string AgentId { get; }

    public string ConnectionId { get; }

    public DateTimeOffset ConnectedAt { get; }

    public IReadOnlyList<string> Capabilities => _capabilities;

    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    public int MaxConcurrency => _slots.Limit;

    /// <summary>Tasks sent to the agent and not yet ended (<see cref="AgentSlots"/>).</summary>
    public int Pending => _slots.Pending;

    public bool IsDraining => _draining;

    public bool IsRemoved => _removed;

    /// <summary>Connected and not draining: may receive new tasks when it has a free slot.</summary>
    public bool IsServing => !_draining && !_removed;

    /// <summary>Whether the circuit is closed: mirrored here so a routing scan reads it with the agent's other fields.</summary>
    public bool IsCircuitClosed => _circuitClosed;

    /// <summary>Whether the agent holds fewer tasks than its limit.</summary>
    public bool HasFreeCapacity => _slots.HasFree;

    /// <summary>Whether routing may give this agent one more task (its circuit aside).</summary>
    public bool HasFreeSlot => !_draining && !_removed && _slots.HasFree;

    /// <summary>How long (timestamp ticks) the agent has held work without finishing any (<see cref="AgentSlots.BusyWithoutProgress"/>).</summary>
    public long BusyWithoutProgress(long now) => _slots.BusyWithoutProgress(now);

    /// <summary>Trust, circuit breaker, slow start and outcome counts.</summary>
    public AgentHealth Health { get; }

    /// <summary>Latency decay, slow start and breaker settings, and the clock they are measured on.</summary>
    public AgentHealthPolicy Policy { get; }

    public TrustScore Trust => Health.Trust;

    /// <summary>The agent's circuit breaker and rolling success window (<see cref="AgentHealth.Circuit"/>, kept here for the routing scan).</summary>
    public CircuitBreaker Circuit { get; }

    public long Completed => Health.Completed;

    public long Failed => Health.Failed;

    public long TimedOut => Health.TimedOut;

    /// <summary>When the last completion arrived, or null.</summary>
    public DateTimeOffset? LastCompletion => Health.LastCompletion;

    /// <summary>The agent's latest self-reported load, or null if it never reported.</summary>
    public ReportedLoad? ReportedLoad => _reportedLoad;

    /// <summary>How long a load report counts for routing: three of the SDK's default 5 s report intervals.</summary>
    public static readonly TimeSpan ReportedLoadFreshness = TimeSpan.FromSeconds(15);

    public void RecordLoad(Aicp.Protocol.AgentLoadReport report, DateTimeOffset at)
    {
        var now = Policy.Time.GetTimestamp();
        _reportedLoad = new ReportedLoad(report, at, now);
        Volatile.Write(ref _reportedQueue, Math.Max(0, report.QueueDepth ?? 0));
        Volatile.Write(ref _reportedQueueUntil, now + (long)(Policy.Time.TimestampFrequency * ReportedLoadFreshness.TotalSeconds));
    }

    /// <summary>
    /// Tasks the agent says it holds beyond what the hub sent it (its own queue), from a report younger than
    /// <see cref="ReportedLoadFreshness"/>; 0 without a fresh report.
    /// </summary>
    public int ReportedQueueDepth(long now) => now > Volatile.Read(ref _reportedQueueUntil) ? 0 : Volatile.Read(ref _reportedQueue);

    /// <summary>What the agent holds now, as routing counts it: pending plus a fresh reported queue.</summary>
    public int Load(long now) => _slots.Pending + ReportedQueueDepth(now);

    /// <summary>
    /// Takes one slot if the agent has one free and its circuit lets the task through (closed, or the one
    /// half-open probe; anything in <paramref name="panic"/>, when every agent of the capability is open).
    /// The caller must call <see cref="ReleaseSlot"/> exactly once after a true.
    /// </summary>
    public bool TryAcquireSlot(bool panic = false)
    {
        if (_draining || _removed || !_slots.TryTake(Policy.Time))
        {
            return false;
        }

        if (_circuitClosed || Circuit.TryAdmit(Policy.Time.GetTimestamp(), panic))
        {
            return true;
        }

        ReleaseSlot();
        return false;
    }

    public void ReleaseSlot() => _slots.Release(Policy.Time.GetTimestamp());

    /// <summary>The per-capability statistics of <paramref name="method"/>, or null when the agent does not serve it.</summary>
    public AgentCapability? For(string method)
    {
        var all = _perCapability;
        foreach (var entry in all)
        {
            // Stryker disable once Block : without the cheap path the ordinal loop below finds the same entry
            if (ReferenceEquals(entry.Method, method))
            {
                return entry; // the registry hands out the pool's own string: the common, cheap case
            }
        }

        foreach (var entry in all)
        {
            if (string.Equals(entry.Method, method, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>The agent joined <paramref name="pool"/>: its statistics for the capability lean on the pool's.</summary>
    public void JoinPool(CapabilityPool pool) => For(pool.Method)?.JoinPool(pool);

    public LatencyEstimate? LatencyFor(string method) => For(method)?.Latency;

    /// <summary>The peak-EWMA latency estimate for the method at <paramref name="now"/>, or the default without history.</summary>
    public double LatencyMs(string method, long now) => For(method)?.Latency.Estimate(now) ?? Policy.DefaultLatencyMs;

    /// <summary>Slow-start share factor in [floor, 1]: ramps up after registration and after the circuit closes.</summary>
    public double SlowStart(long now) => Health.SlowStart(now);

    /// <summary>Success rate over the breaker's rolling window (1 without recent history).</summary>
    public double SuccessRate(long now) => Health.SuccessRate(now);

    public IEnumerable<KeyValuePair<string, LatencyEstimate>> Latencies =>
        _perCapability.Select(static c => new KeyValuePair<string, LatencyEstimate>(c.Method, c.Latency));

    /// <summary>
    /// An attempt ended with the agent's answer: success or agent error, after <paramref name="latencyMs"/>;
    /// <paramref name="load"/> is what the agent held when the attempt was sent (<see cref="Load"/>).
    /// </summary>
    public void RecordCompletion(string method, double latencyMs, bool ok, DateTimeOffset at, int load = 0)
    {
        var now = Policy.Time.GetTimestamp();
        For(method)?.Record(latencyMs, load, now, Health.SlowStart(now));
        Health.RecordAnswer(ok, now, at);
    }

    /// <summary>
    /// An attempt timed out after <paramref name="elapsedMs"/>. The elapsed time goes into the latency
    /// estimate as a sample (the agent was at least that slow, and peak EWMA takes it at once), so a
    /// stalled agent looks slow before its breaker opens.
    /// </summary>
    public void RecordTimeout(string method, double elapsedMs, int load = 0)
    {
        For(method)?.Record(elapsedMs, load, Policy.Time.GetTimestamp());
        RecordTimeout();
    }

    /// <summary>A timeout without a latency sample: trust and breaker only.</summary>
    public void RecordTimeout() => Health.RecordTimeout(Policy.Time.GetTimestamp());

    /// <summary>Re-registration on the same connection: new capabilities and limits; counts and statistics stay.</summary>
    public void Update(IReadOnlyList<string> capabilities, int maxConcurrency, IReadOnlyDictionary<string, string> metadata)
    {
        _capabilities = [.. capabilities];
        _perCapability = BuildPerCapability(_capabilities, _perCapability, Policy);
        _slots.Limit = maxConcurrency;
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

    /// <summary>Assignments tracked on the agent now: each attempt from its send until it ends (not for the hot path: it counts under every lock).</summary>
    public int TrackedAssignments => _assignments.Count;

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

    private static AgentCapability[] BuildPerCapability(string[] capabilities, AgentCapability[]? previous, AgentHealthPolicy policy)
    {
        var result = new AgentCapability[capabilities.Length];
        for (var i = 0; i < capabilities.Length; i++)
        {
            var kept = previous is null ? null : Array.Find(previous, c => string.Equals(c.Method, capabilities[i], StringComparison.Ordinal));
            result[i] = kept ?? new AgentCapability(capabilities[i], policy);
        }

        return result;
    }
}

/// <summary>A load report and when the hub received it.</summary>
internal sealed record ReportedLoad(Aicp.Protocol.AgentLoadReport Report, DateTimeOffset ReceivedAt, long ReceivedTimestamp);
