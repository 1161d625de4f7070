using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>One weighted random choice among the candidates in a single pass (Chao's reservoir with one slot), allocation-free.</summary>
internal static class WeightedPick
{
    public static AgentState? Choose<TWeight>(in RoutingContext context, TWeight weight)
        where TWeight : struct, IAgentWeight
    {
        AgentState? chosen = null;
        var total = 0.0;
        foreach (var agent in context.Candidates)
        {
            var w = weight.Of(agent, context.Method, context.Now);
            if (!(w > 0))
            {
                continue;
            }

            total += w;
            // Stryker disable once Equality : a uniform double lands exactly on w / total with probability ~0
            if (chosen is null || context.Random.NextDouble() * total < w)
            {
                chosen = agent; // keeps each agent with probability w / total so far
            }
        }

        return chosen;
    }
}

/// <summary>A weight function, as a struct so the weighted pick is specialised and does not allocate.</summary>
internal interface IAgentWeight
{
    double Of(AgentState agent, string method, long now);
}
