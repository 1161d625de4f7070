namespace Aicp.Hub.Configuration;

/// <summary>
/// Hedged requests (<c>Aicp:Hedging</c>, Dean and Barroso, "The Tail at Scale"): for a capability listed in
/// <see cref="Capabilities"/> (its tasks are idempotent, so running one twice does no harm), when the first attempt has
/// not answered after <see cref="Delay"/> (by default the capability's observed <see cref="Percentile"/> attempt
/// latency), the hub sends a second attempt to another agent with a free slot. The first result wins; the other agent
/// gets Cancel. Hedges are at most <see cref="BudgetRatio"/> of the capability's tasks over the last 10 s.
/// </summary>
public sealed class HedgingOptions
{
    /// <summary>Idempotent capabilities the hub may hedge. Empty by default (no hedging).</summary>
    public List<string> Capabilities { get; set; } = [];

    /// <summary>A fixed hedge delay; null (the default) waits for the capability's observed <see cref="Percentile"/> latency.</summary>
    public TimeSpan? Delay { get; set; }

    /// <summary>The attempt-latency percentile after which a hedge is sent, in (0, 1). The default value is 0.95.</summary>
    public double Percentile { get; set; } = 0.95;

    /// <summary>Hedges allowed per task submitted (the extra attempts they cost). The default value is 0.05.</summary>
    public double BudgetRatio { get; set; } = 0.05;
}
