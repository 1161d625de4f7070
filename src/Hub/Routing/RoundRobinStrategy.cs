using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>Each decision starts one agent further along the pool than the last and takes the first eligible.</summary>
internal sealed class RoundRobinStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.RoundRobin;

    public AgentState? Pick(in RoutingContext context)
    {
        var agents = context.Agents;
        if (agents.Length == 0)
        {
            return null;
        }

        var start = (uint)context.Pool.NextCursor();
        for (var i = 0u; i < agents.Length; i++)
        {
            var agent = agents[(int)((start + i) % (uint)agents.Length)];
            if (context.IsEligible(agent))
            {
                return agent;
            }
        }

        return null;
    }
}
