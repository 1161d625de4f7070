using Aicp.Protocol;

namespace Aicp.Hub.Observability;

/// <summary>Hub-wide totals since start, updated lock-free.</summary>
internal sealed class HubCounters
{
    private long _submitted;
    private long _completed;
    private long _failed;
    private long _timeout;
    private long _noAgents;
    private long _rejected;
    private long _overloaded;
    private long _cancelled;
    private long _rateLimited;
    private long _forbiddenCalls;
    private long _oversizeResults;
    private long _failovers;
    private long _lateCompletions;
    private long _foreignCompletions;

    public long Submitted => Interlocked.Read(ref _submitted);
    public long Failovers => Interlocked.Read(ref _failovers);

    /// <summary>Completions for an attempt the hub had already ended (timeout, failover, cancel).</summary>
    public long LateCompletions => Interlocked.Read(ref _lateCompletions);

    /// <summary>Completions from a connection the attempt was not assigned to.</summary>
    public long ForeignCompletions => Interlocked.Read(ref _foreignCompletions);

    /// <summary>Hub calls refused because the caller lacks the role (a Complete or Drain from a non-agent).</summary>
    public long ForbiddenCalls => Interlocked.Read(ref _forbiddenCalls);

    /// <summary>Completions whose result exceeded the limit; each closed its connection.</summary>
    public long OversizeResults => Interlocked.Read(ref _oversizeResults);

    public void ForbiddenCall() => Interlocked.Increment(ref _forbiddenCalls);
    public void OversizeResult() => Interlocked.Increment(ref _oversizeResults);

    public void TaskSubmitted() => Interlocked.Increment(ref _submitted);
    public void Failover() => Interlocked.Increment(ref _failovers);
    public void LateCompletion() => Interlocked.Increment(ref _lateCompletions);
    public void ForeignCompletion() => Interlocked.Increment(ref _foreignCompletions);

    public void TaskFinished(string status)
    {
        switch (status)
        {
            case TaskStatuses.Completed: Interlocked.Increment(ref _completed); break;
            case TaskStatuses.Failed: Interlocked.Increment(ref _failed); break;
            case TaskStatuses.Timeout: Interlocked.Increment(ref _timeout); break;
            case TaskStatuses.NoAgents: Interlocked.Increment(ref _noAgents); break;
            case TaskStatuses.Rejected: Interlocked.Increment(ref _rejected); break;
            case TaskStatuses.Overloaded: Interlocked.Increment(ref _overloaded); break;
            case TaskStatuses.Cancelled: Interlocked.Increment(ref _cancelled); break;
            case TaskStatuses.RateLimited: Interlocked.Increment(ref _rateLimited); break;
        }
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>
    {
        ["submitted"] = Submitted,
        [TaskStatuses.Completed] = Interlocked.Read(ref _completed),
        [TaskStatuses.Failed] = Interlocked.Read(ref _failed),
        [TaskStatuses.Timeout] = Interlocked.Read(ref _timeout),
        [TaskStatuses.NoAgents] = Interlocked.Read(ref _noAgents),
        [TaskStatuses.Rejected] = Interlocked.Read(ref _rejected),
        [TaskStatuses.Overloaded] = Interlocked.Read(ref _overloaded),
        [TaskStatuses.Cancelled] = Interlocked.Read(ref _cancelled),
        [TaskStatuses.RateLimited] = Interlocked.Read(ref _rateLimited),
        ["failovers"] = Failovers,
        ["lateCompletions"] = LateCompletions,
        ["foreignCompletions"] = ForeignCompletions,
        ["forbiddenCalls"] = ForbiddenCalls,
        ["oversizeResults"] = OversizeResults,
    };
}
