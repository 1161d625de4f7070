using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The hub default: the candidate with the lowest predicted completion time, weighed by how much the hub trusts it to
/// succeed (<see cref="AgentScores.AdaptiveCost"/>: predicted completion / confidence). Every candidate is scored, up to
/// <see cref="MaxScored"/> of them: one hub knows every agent's pending count exactly, and with full, fresh information
/// the shortest expected delay beats sampling (join-the-shortest-queue is the reference that best-of-two approximates,
/// Mitzenmacher). It does not herd: each agent's prediction grows with its live pending count, so the task after this
/// one already sees it loaded. In a larger pool the scored candidates are <see cref="MaxScored"/> in a row from a random
/// starting point: the best of that many random choices, which for load is as good as all of them (the maximum load
/// with d choices falls as log log n / log d), at a bounded cost per decision.
/// <para>
/// Costs within <see cref="Tolerance"/> of the lowest count as equal, and the candidate holding the least work relative to
/// its slots wins among them: agents whose latency does not grow with load (any split of the work is as fast) share it,
/// instead of the one with the slightly luckier estimate taking it all. Exact ties go to the first candidate after a
/// random starting point.
/// </para>
/// </summary>
/// <remarks>
/// Where the load view is stale or spread over several dispatchers, comparing two random candidates (with memory of the
/// last winner) is the robust choice instead; this hub is one node with exact counts.
/// </remarks>
internal sealed class AdaptiveStrategy : IRoutingStrategy
{
    /// <summary>Most candidates scored per decision: 32.</summary>
    public const int MaxScored = 32;

    /// <summary>
    /// Costs within this share of the lowest count as equal: 0.2 (20%). Chosen with the routing simulator: equal agents
    /// that run tasks in parallel (scenarios B and H) share the work, while a 1.5x slower agent (scenario E) is not
    /// mistaken for an equal one.
    /// </summary>
    public const double Tolerance = 0.2;

    public string Name => RoutingStrategyNames.Adaptive;

    public AgentState? Pick(in RoutingContext context)
    {
        var candidates = context.Candidates;
        var n = candidates.Length;
        // Stryker disable once Equality : with n < 1 a single candidate goes through the scoring loop, which picks it too
        if (n <= 1)
        {
            return n == 0 ? null : candidates[0];
        }

        var method = context.Method;
        var now = context.Now;
        var start = context.Random.Next(n);
        var scored = Math.Min(n, MaxScored);
        Span<double> costs = stackalloc double[MaxScored];
        Span<int> loads = stackalloc int[MaxScored];
        var bestCost = double.MaxValue;
        for (int k = 0, i = start; k < scored; k++, i = i + 1 == n ? 0 : i + 1)
        {
            var agent = candidates[i];
            loads[k] = agent.Load(now);
            costs[k] = AgentScores.PredictedCompletionMs(agent, method, now, loads[k]) / AgentScores.Confidence(agent, now);
            bestCost = Math.Min(bestCost, costs[k]);
        }

        // Among the candidates as good as the best (within the tolerance), the one holding the least work relative to its
        // capacity; the first after the random start on a tie.
        var limit = bestCost * (1 + Tolerance);
        AgentState? best = null;
        var bestShare = double.MaxValue;
        for (int k = 0, i = start; k < scored; k++, i = i + 1 == n ? 0 : i + 1)
        {
            if (costs[k] <= limit)
            {
                var share = (double)loads[k] / candidates[i].MaxConcurrency;
                if (share < bestShare)
                {
                    best = candidates[i];
                    bestShare = share;
                }
            }
        }

        return best;
    }
}
