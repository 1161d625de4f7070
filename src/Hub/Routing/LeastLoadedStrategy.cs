using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The eligible agent with the fewest pending tasks. Ties are broken uniformly at random (reservoir
/// sampling over the tied agents), so equal agents share the load instead of the first one taking it all.
/// </summary>
internal sealed class LeastLoadedStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.LeastLoaded;

    public AgentState? Pick(in RoutingContext context)
    {
        AgentState? best = null;
        var bestPending = int.MaxValue;
        var ties = 0;
        foreach (var agent in context.Agents)
        {
            if (!context.IsEligible(agent))
            {
                continue;
            }

            var pending = agent.Pending;
            if (pending < bestPending)
            {
                best = agent;
                bestPending = pending;
                ties = 1;
            }
            else if (pending == bestPending && context.Random.Next(++ties) == 0)
            {
                best = agent;
            }
        }

        return best;
    }
}
