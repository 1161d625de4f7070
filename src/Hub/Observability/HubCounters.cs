using Aicp.Protocol;

namespace Aicp.Hub.Observability;

/// <summary>
/// Hub-wide totals since start, as <c>GET /v1/stats</c> reports them. Nothing is counted here: every value is
/// read from the prometheus-net counters of <see cref="HubMetrics"/> that <c>/metrics</c> exports (summed over
/// their labels), so the status API and a scrape always agree.
/// </summary>
internal sealed class HubCounters(HubMetrics metrics)
{
    /// <summary>Submits received, refused ones included: equals the sum of the final statuses once every task has finished.</summary>
    public long Submitted => metrics.SubmittedTotal;

    /// <summary>Attempts after a task's first (<c>aicp_failovers_total</c>).</summary>
    public long Failovers => metrics.FailoversTotal;

    /// <summary>Hedged attempts sent (<c>aicp_hedges_total</c>).</summary>
    public long Hedges => metrics.HedgesTotal;

    /// <summary>Tasks whose result came from their hedge (<c>aicp_hedges_won_total</c>).</summary>
    public long HedgesWon => metrics.HedgesWonTotal;

    /// <summary>Tasks that ended without a due failover because the retry budget was spent.</summary>
    public long RetryBudgetExhausted => metrics.RetryBudgetExhaustedTotal;

    /// <summary>Tasks moved to the next capability of their fallback chain (<c>aicp_fallbacks_total</c>).</summary>
    public long Fallbacks => metrics.FallbacksTotal;

    /// <summary>Completions for an attempt the hub had already ended (timeout, failover, cancel).</summary>
    public long LateCompletions => metrics.LateCompletionsTotal;

    /// <summary>Chunks of streamed tasks taken for their submitters (<c>aicp_stream_chunks_total</c>).</summary>
    public long StreamChunks => metrics.StreamChunksTotal;

    /// <summary>Chunks refused because their attempt had ended or takes no output (<c>aicp_late_chunks_total</c>).</summary>
    public long LateChunks => metrics.LateChunksTotal;

    /// <summary>Completions from a connection the attempt was not assigned to.</summary>
    public long ForeignCompletions => metrics.ForeignCompletionsTotal;

    /// <summary>Hub calls refused because the caller lacks the role (a Complete or Drain from a non-agent).</summary>
    public long ForbiddenCalls => metrics.ForbiddenCallsTotal;

    /// <summary>Completions whose result exceeded the limit; each closed its connection.</summary>
    public long OversizeResults => metrics.OversizeResultsTotal;

    /// <summary>Security events by kind (<c>aicp_security_events_total</c>), keyed by the label value.</summary>
    public IReadOnlyDictionary<string, long> SecurityEvents() =>
        Enum.GetValues<Security.SecurityEventKind>().ToDictionary(Security.SecurityEventKinds.Label, metrics.SecurityEventsTotal);

    /// <summary>Requests per front door and outcome (<c>aicp_front_door_requests_total</c>); outcomes never seen are left out.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> FrontDoors() => metrics.FrontDoorTotals();

    /// <summary>Tasks that finished with <paramref name="status"/> (a <see cref="TaskStatuses"/> value).</summary>
    public long Finished(string status) => metrics.CompletedTotal(status);

    /// <summary>Every total, keyed as <c>/v1/stats</c> writes them: <c>submitted</c>, one key per final status, then the other counts.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var snapshot = new Dictionary<string, long> { ["submitted"] = Submitted };
        foreach (var status in HubMetrics.FinalStatuses)
        {
            snapshot[status] = Finished(status);
        }

        snapshot["failovers"] = Failovers;
        snapshot["hedges"] = Hedges;
        snapshot["hedgesWon"] = HedgesWon;
        snapshot["retryBudgetExhausted"] = RetryBudgetExhausted;
        snapshot["fallbacks"] = Fallbacks;
        snapshot["lateCompletions"] = LateCompletions;
        snapshot["streamChunks"] = StreamChunks;
        snapshot["lateChunks"] = LateChunks;
        snapshot["foreignCompletions"] = ForeignCompletions;
        snapshot["forbiddenCalls"] = ForbiddenCalls;
        snapshot["oversizeResults"] = OversizeResults;
        return snapshot;
    }
}
