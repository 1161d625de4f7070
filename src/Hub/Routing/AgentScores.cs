using Aicp.Hub.Health;
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
    /// The predicted completion time, in milliseconds, of a task sent to the agent now: its service-time model at its
    /// current load (<see cref="ServiceTimeModel.Predict"/>, load = pending + fresh reported queue; without history, the
    /// capability's typical agent working one task at a time), and at least the time the agent has held work without
    /// finishing any (<see cref="AgentState.BusyWithoutProgress"/>): an agent that stalled shows it in milliseconds,
    /// long before its first attempt times out.
    /// </summary>
    public static double PredictedCompletionMs(AgentState agent, string method, long now) =>
        PredictedCompletionMs(agent, method, now, agent.Load(now));

    /// <inheritdoc cref="PredictedCompletionMs(AgentState, string, long)"/>
    /// <param name="agent">The agent.</param>
    /// <param name="method">The capability.</param>
    /// <param name="now">The decision's time.</param>
    /// <param name="load">The agent's load now (<see cref="AgentState.Load"/>).</param>
    public static double PredictedCompletionMs(AgentState agent, string method, long now, int load)
    {
        var predicted = agent.For(method)?.Service.Predict(load, now, agent.MaxConcurrency) ?? agent.Policy.DefaultLatencyMs * (load + 1);
        var stalledMs = agent.BusyWithoutProgress(now) * agent.Policy.MsPerTick;
        return Math.Max(predicted, stalledMs);
    }

    /// <summary>
    /// How much the hub trusts the agent to succeed, in (0, 1]: <c>min(1, max(trust, 0.05) / 0.5) x successRate^8 x slowStart</c>.
    /// A failure costs the task a failover (another full latency) on top of the wasted attempt, and the submitter a
    /// worse tail, so the recent success rate counts steeply: <c>s^8 ~ exp(-8 x failure rate)</c> (0.99^8 = 0.92,
    /// 0.9^8 = 0.43, 0.7^8 = 0.06). A rarely failing agent barely moves; one failing 30% of its tasks costs about 17x a
    /// reliable one of equal speed and load. Trust carries the longer memory and weighs timeouts above errors; it only
    /// takes away: an agent at or above the initial 0.5 (a newcomer, or one that succeeds) is not penalised, so a new
    /// agent is not priced out of a pool whose costs do not grow with load. Slow start ramps a new or recovered agent's
    /// share. The exponent was chosen with the routing simulator (scenario C: exponent 4 left the flaky agent near 5%).
    /// </summary>
    public static double Confidence(AgentState agent, long now)
    {
        var success = agent.SuccessRate(now);
        success *= success; // ^2
        success *= success; // ^4
        success *= success; // ^8
        var trust = Math.Min(1, Math.Max(agent.Trust.Value, MinTrustFactor) / TrustScore.Initial);
        return trust * success * agent.SlowStart(now);
    }

    /// <summary>Adaptive: the predicted completion time divided by the confidence, <c>predicted / confidence</c>.</summary>
    public static double AdaptiveCost(AgentState agent, string method, long now) =>
        PredictedCompletionMs(agent, method, now) / Confidence(agent, now);

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
