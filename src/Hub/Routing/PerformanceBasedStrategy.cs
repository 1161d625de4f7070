using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Latency-aware without herding (Finagle / Linkerd peak EWMA): of two random candidates, the one with the lower
/// <c>peak-EWMA latency x (pending + 1)</c> (<see cref="AgentScores.LatencyCost"/>). Comparing only two random agents
/// keeps a stale "fastest" number from pulling all the load onto one agent.
/// </summary>
internal sealed class PerformanceBasedStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.PerformanceBased;

    public AgentState? Pick(in RoutingContext context)
    {
        // Stryker disable once Block : without candidates both samples are null, and the line below returns the first: null
        if (!CandidateSampler.Two(in context, out var a, out var b))
        {
            return null;
        }

        // Stryker disable once Equality : the two samples are a uniformly random ordered pair, so a tie kept by the second is as fair as one kept by the first
        return b is null || AgentScores.LatencyCost(a, context.Method, context.Now) <= AgentScores.LatencyCost(b, context.Method, context.Now) ? a : b;
    }
}
