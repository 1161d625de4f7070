namespace Aicp.Hub.Configuration;

/// <summary>
/// The retry budget (<c>Aicp:RetryBudget</c>): failover attempts, per capability, may be at most <see cref="Ratio"/> of
/// the tasks submitted within <see cref="Window"/>, plus <see cref="MinPerSecond"/> x the window's seconds, as Finagle's
/// <c>RetryBudget</c> and Envoy's retry budget do. A fleet-wide failure then adds at most that share of load instead of
/// multiplying it by <c>maxAttempts</c>.
/// </summary>
public sealed class RetryBudgetOptions
{
    /// <summary>Failovers allowed per task submitted. The default value is 0.2 (Finagle, Envoy).</summary>
    public double Ratio { get; set; } = 0.2;

    /// <summary>Failovers allowed per second whatever the traffic, so a quiet capability can still fail over. The default value is 10 (Finagle).</summary>
    public double MinPerSecond { get; set; } = 10;

    /// <summary>How far back tasks and failovers count. The default value is 10 s (Finagle's TTL).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);
}
