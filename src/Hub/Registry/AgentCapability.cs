using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// What the hub learned about one agent serving one capability: its peak-EWMA latency and its service-time model, which
/// leans on the capability's typical agent (<see cref="CapabilityPool.Typical"/>) once the agent has joined the pool.
/// </summary>
internal sealed class AgentCapability(string method, AgentHealthPolicy policy)
{
    public string Method { get; } = method;

    /// <summary>Peak EWMA of the attempt latency (Finagle): performance-based and weighted routing, and the latency gauge.</summary>
    public LatencyEstimate Latency { get; } = new(policy);

    /// <summary>Latency as a function of the load at dispatch: the adaptive strategy's predicted completion time.</summary>
    public ServiceTimeModel Service { get; } = new(policy);

    /// <summary>Links the agent's model to the capability's typical agent: it leans on it, and feeds it.</summary>
    public void JoinPool(CapabilityPool pool) => Service.Typical = pool.Typical;

    /// <summary>
    /// An attempt sent when the agent held <paramref name="load"/> tasks ended after <paramref name="latencyMs"/>;
    /// <paramref name="weight"/> is how much the sample counts in the service-time model (its slow start).
    /// </summary>
    public void Record(double latencyMs, int load, long now, double weight = 1)
    {
        Latency.Record(latencyMs, now);
        Service.Record(latencyMs, load, now, weight);
    }
}
