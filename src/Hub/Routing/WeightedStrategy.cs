using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Weighted random over every eligible agent with weight <c>successRate^2 / latency</c> x slow start
/// (<see cref="AgentScores.PerformanceWeight"/>): faster and more reliable agents get proportionally more,
/// nobody gets all. One pass over the pool per pick.
/// </summary>
internal sealed class WeightedStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.Weighted;

    public AgentState? Pick(in RoutingContext context) => WeightedPick.Choose(in context, default(Weight));

    private readonly struct Weight : IAgentWeight
    {
        public double Of(AgentState agent, string method, long now) => AgentScores.PerformanceWeight(agent, method, now);
    }
}
