using Aicp.Hub.Configuration;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// What the dispatcher keeps per capability: the retry and hedge budgets and the recent attempt latencies the hedge
/// delay is read from. Created with the capability's pool and gone with it.
/// </summary>
internal sealed class CapabilityDispatch(AicpHubOptions options, long timestampFrequency, bool hedged)
{
    /// <summary>The window of <see cref="Latencies"/> and of the hedge budget.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>Failovers allowed as a share of recent tasks (<c>Aicp:RetryBudget</c>).</summary>
    public AttemptBudget Retries { get; } = new(options.RetryBudget.Ratio, options.RetryBudget.MinPerSecond, options.RetryBudget.Window, timestampFrequency);

    /// <summary>Hedges allowed as a share of recent tasks (<c>Aicp:Hedging:BudgetRatio</c>, no floor).</summary>
    public AttemptBudget Hedges { get; } = new(options.Hedging.BudgetRatio, 0, Window, timestampFrequency);

    /// <summary>Latencies of the capability's completed attempts over the last 10-20 s (recorded for hedged capabilities only).</summary>
    public LatencyPercentiles Latencies { get; } = new(Window, timestampFrequency);

    /// <summary>Whether the capability is configured as idempotent, so its tasks may be hedged.</summary>
    public bool Hedged { get; } = hedged;

    /// <summary>A task of the capability was submitted: both budgets grow.</summary>
    public void TaskSubmitted(long now)
    {
        Retries.Deposit(now);
        if (Hedged)
        {
            Hedges.Deposit(now);
        }
    }
}
