using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The score formulas the load-aware strategies share, in one place so route entries and docs can refer to them.
/// Costs: lower is better. Weights: higher is better. No formula returns zero weight or infinite cost for a
/// live agent, so a penalised agent still gets the occasional task that lets it show it recovered.
/// </summary>
internal static class AgentScores
{
    /// <summary>Least weight trust contributes (trust 0 still leaves an agent a little traffic).</summary>
    public const double MinTrustFactor = 0.05;

    /// <summary>Power of two: pending tasks plus the new one, inflated while the agent is slow-starting.</summary>
    public static double LoadCost(AgentState agent, long now) => (agent.Pending + 1) / agent.SlowStart(now);

    /// <summary>Peak EWMA (Finagle): latency estimate x (pending + 1), inflated while slow-starting.</summary>
    public static double LatencyCost(AgentState agent, string method, long now) =>
        agent.LatencyMs(method, now) * (agent.Pending + 1) / agent.SlowStart(now);

    /// <summary>
    /// Adaptive: the peak-EWMA cost divided by how much the hub trusts the agent to succeed —
    /// <c>latency x (pending + 1) / (trust' x successRate^8 x slowStart)</c> with
    /// <c>trust' = max(trust, 0.05)</c>. A failure costs the task a failover (another full latency) on top of
    /// the wasted attempt, and the submitter a worse tail, so the recent success rate counts steeply:
    /// <c>s^8 ~ exp(-8 x failure rate)</c> (0.99^8 = 0.92, 0.9^8 = 0.43, 0.7^8 = 0.06). A rarely failing agent
    /// barely moves; one failing 30% of its tasks (trust about 0.55) costs about 30x a reliable one of equal
    /// speed and load and loses nearly every comparison, while still getting tasks when the alternative is
    /// far worse. Trust carries the longer memory and weighs timeouts above errors. The exponent was chosen
    /// with the routing simulator (scenario C: exponent 4 left the flaky agent near 5% of attempts).
    /// The load term adds the agent's own reported queue depth (work it holds that the hub did not send, e.g.
    /// a model server's backlog; see <see cref="AgentState.ReportedQueueDepth"/>) to the hub's pending count:
    /// <c>(pending + reportedQueue + 1)</c>. A stale report (older than 15 s) counts as 0.
    /// </summary>
    public static double AdaptiveCost(AgentState agent, string method, long now)
    {
        var success = agent.SuccessRate(now);
        success *= success; // ^2
        success *= success; // ^4
        success *= success; // ^8
        var factor = Math.Max(agent.Trust.Value, MinTrustFactor) * success * agent.SlowStart(now);
        return agent.LatencyMs(method, now) * (agent.Pending + agent.ReportedQueueDepth(now) + 1) / factor;
    }

    /// <summary>Weighted: throughput-like weight <c>successRate^2 / latency</c>, scaled by slow start.</summary>
    public static double PerformanceWeight(AgentState agent, string method, long now)
    {
        var success = agent.SuccessRate(now);
        return success * success * agent.SlowStart(now) / Math.Max(agent.LatencyMs(method, now), 0.001);
    }

    /// <summary>Trust-weighted: <c>max(trust, 0.05) x slowStart</c>.</summary>
    public static double TrustWeight(AgentState agent, long now) =>
        Math.Max(agent.Trust.Value, MinTrustFactor) * agent.SlowStart(now);
}
