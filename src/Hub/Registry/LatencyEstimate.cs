using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// Peak-EWMA latency of one agent for one method (Finagle / Linkerd). A sample above the current cost
/// replaces it at once, so a slowing agent is seen at its first slow answer; a lower sample is averaged in
/// with weight <c>w = exp(-dt/tau)</c> on the old cost, so recovery is trusted gradually. Between samples
/// the cost decays toward zero with the same tau when read, so an agent the hub stopped using because it
/// looked slow is eventually tried again instead of being starved by its last bad number.
/// Writes (one per attempt end) take a private lock; reads are lock-free and may see a cost and time
/// stamp from two different writes, which only bends the decay of one read slightly.
/// </summary>
internal sealed class LatencyEstimate(AgentHealthPolicy policy)
{
    private readonly object _gate = new();
    private double _ms = double.NaN;
    private long _stamp;

    public LatencyEstimate()
        : this(AgentHealthPolicy.Default)
    {
    }

    /// <summary>The cost at the last sample in milliseconds, or NaN before the first sample.</summary>
    public double Milliseconds => Volatile.Read(ref _ms);

    public bool HasValue => !double.IsNaN(Milliseconds);

    /// <summary>The cost now: the last cost decayed by the time since, or the policy's default without history.</summary>
    public double Estimate(long now)
    {
        var ms = Volatile.Read(ref _ms);
        if (double.IsNaN(ms))
        {
            return policy.DefaultLatencyMs;
        }

        var dt = now - Volatile.Read(ref _stamp);
        // Stryker disable once Equality : at dt = 0 the decay factor is exp(0) = 1, the same cost
        return dt <= 0 ? ms : ms * Math.Exp(-dt / policy.DecayTicks);
    }

    public void Record(double sampleMs) => Record(sampleMs, policy.Time.GetTimestamp());

    public void Record(double sampleMs, long now)
    {
        lock (_gate)
        {
            var current = _ms;
            double next;
            // Stryker disable once Equality : a sample equal to the cost averages to that cost, current x w + current x (1 - w)
            if (double.IsNaN(current) || sampleMs >= current)
            {
                next = sampleMs; // peak-sensitive: a slower answer replaces the cost at once
            }
            else
            {
                var w = Math.Exp(-Math.Max(0, now - _stamp) / policy.DecayTicks);
                next = current * w + sampleMs * (1 - w);
            }

            Volatile.Write(ref _stamp, now);
            Volatile.Write(ref _ms, next);
        }
    }
}
