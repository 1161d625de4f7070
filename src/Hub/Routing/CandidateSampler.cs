using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Uniform random choice of eligible agents without a pass over the pool in the common case: a few random
/// probes (rejection sampling), then one reservoir-sampling pass when the probes keep hitting ineligible
/// agents (a mostly full or mostly tried pool). Both are uniform over the eligible agents and allocate nothing.
/// </summary>
internal static class CandidateSampler
{
    private const int Probes = 8;

    /// <summary>One eligible agent chosen uniformly, or null when none is.</summary>
    public static AgentState? One(in RoutingContext context)
    {
        var agents = context.Agents;
        if (agents.Length == 0)
        {
            return null;
        }

        for (var i = 0; i < Probes; i++)
        {
            var agent = agents[context.Random.Next(agents.Length)];
            if (context.IsEligible(agent))
            {
                return agent;
            }
        }

        AgentState? chosen = null;
        var seen = 0;
        foreach (var agent in agents)
        {
            if (context.IsEligible(agent) && context.Random.Next(++seen) == 0)
            {
                chosen = agent;
            }
        }

        return chosen;
    }

    /// <summary>
    /// Two distinct eligible agents chosen uniformly (<paramref name="second"/> is null when only one is
    /// eligible). False when none is.
    /// </summary>
    public static bool Two(in RoutingContext context, out AgentState first, out AgentState? second)
    {
        var agents = context.Agents;
        var n = agents.Length;
        first = null!;
        second = null;
        if (n == 0)
        {
            return false;
        }

        var firstIndex = -1;
        for (var i = 0; i < Probes; i++)
        {
            var index = context.Random.Next(n);
            if (context.IsEligible(agents[index]))
            {
                firstIndex = index;
                break;
            }
        }

        if (firstIndex >= 0 && n > 1)
        {
            for (var i = 0; i < Probes; i++)
            {
                var index = context.Random.Next(n - 1);
                if (index >= firstIndex)
                {
                    index++; // uniform over the other n - 1
                }

                if (context.IsEligible(agents[index]))
                {
                    first = agents[firstIndex];
                    second = agents[index];
                    return true;
                }
            }
        }

        // Reservoir of size two over the eligible agents: every pair equally likely.
        AgentState? a = null, b = null;
        var seen = 0;
        foreach (var agent in agents)
        {
            if (!context.IsEligible(agent))
            {
                continue;
            }

            seen++;
            if (seen == 1)
            {
                a = agent;
            }
            else if (seen == 2)
            {
                b = agent;
            }
            else
            {
                var slot = context.Random.Next(seen);
                if (slot == 0)
                {
                    a = agent;
                }
                else if (slot == 1)
                {
                    b = agent;
                }
            }
        }

        if (a is null)
        {
            return false;
        }

        if (b is not null && context.Random.Next(2) == 0)
        {
            (a, b) = (b, a); // the scan finds them in pool order; strategies break ties toward the first
        }

        first = a;
        second = b;
        return true;
    }
}
