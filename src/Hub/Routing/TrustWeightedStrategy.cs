using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Weighted random over every eligible agent with weight <c>max(trust, 0.05)</c> x slow start
/// (<see cref="AgentScores.TrustWeight"/>). One pass over the pool per pick.
/// </summary>
internal sealed class TrustWeightedStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.TrustWeighted;

    public AgentState? Pick(in RoutingContext context) => WeightedPick.Choose(in context, default(Weight));

    private readonly struct Weight : IAgentWeight
    {
        public double Of(AgentState agent, string method, long now) => AgentScores.TrustWeight(agent, now);
    }
}
