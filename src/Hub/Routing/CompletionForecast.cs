using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The earliest a task sent to a capability now could be expected to finish, from the agents' service-time models:
/// what deadlines are checked against before a task is accepted.
/// </summary>
internal static class CompletionForecast
{
    /// <summary>
    /// Milliseconds until a task submitted now would be expected to finish, or null without the evidence to say
    /// (an agent that could take it has no latency history). With a free slot on a healthy agent: the lowest predicted
    /// completion among them. With every slot taken: the wait for a slot by Little's law (each agent finishes its
    /// <c>held</c> tasks at <c>held / predicted(held - 1)</c> per millisecond, and the waiting tasks plus this one must
    /// start first) plus the fastest agent's service time.
    /// </summary>
    public static double? EarliestMs(CapabilityPool pool, IRandomSource random, long now)
    {
        var method = pool.Method;
        var context = new RoutingContext(pool, pool.Agents, [], random, now);
        if (!context.Candidates.IsEmpty)
        {
            var best = double.PositiveInfinity;
            foreach (var agent in context.Candidates)
            {
                if (agent.For(method)?.Service is not { HasValue: true })
                {
                    return null;
                }

                best = Math.Min(best, AgentScores.PredictedCompletionMs(agent, method, now));
            }

            return best;
        }

        var perMs = 0.0;
        var fastest = double.PositiveInfinity;
        foreach (var agent in pool.Agents)
        {
            if (!agent.IsServing)
            {
                continue;
            }

            if (agent.For(method)?.Service is not { HasValue: true } model)
            {
                return null;
            }

            var held = agent.Load(now);
            // Stryker disable once Equality : an agent holding nothing adds 0 / predicted(-1) = 0 either way
            if (held > 0)
            {
                perMs += held / Math.Max(model.Predict(held - 1, now), 0.001);
            }

            fastest = Math.Min(fastest, model.Predict(0, now));
        }

        return perMs > 0 ? (pool.Waiters.Count + 1) / perMs + fastest : null;
    }
}
