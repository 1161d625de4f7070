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
/// Costs within about 4% of each other count as equal, and the candidate holding less work wins among them: agents
/// whose latency does not grow with load (any split of the work is as fast) share it instead of the one with the
/// slightly luckier estimate taking it all. Exact ties go to the first candidate after a random starting point.
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

    public string Name => RoutingStrategyNames.Adaptive;

    public AgentState? Pick(in RoutingContext context)
    {
        var candidates = context.Candidates;
        var n = candidates.Length;
        if (n <= 1)
        {
            return n == 0 ? null : candidates[0];
        }

        var method = context.Method;
        var now = context.Now;
        AgentState? best = null;
        var bestBand = long.MaxValue;
        var bestLoad = int.MaxValue;
        var i = context.Random.Next(n);
        var scored = Math.Min(n, MaxScored);
        for (var k = 0; k < scored; k++, i = i + 1 == n ? 0 : i + 1)
        {
            var agent = candidates[i];
            var load = agent.Load(now);
            var cost = AgentScores.PredictedCompletionMs(agent, method, now, load) / AgentScores.Confidence(agent, now);
            var band = Band(cost);
            if (band < bestBand || (band == bestBand && load < bestLoad))
            {
                best = agent;
                bestBand = band;
                bestLoad = load;
            }
        }

        return best;
    }

    /// <summary>
    /// The cost's band on a log scale, 16 bands per doubling (about 4.4% wide): the exponent and the top four mantissa
    /// bits of the positive double, which order as the value does. The width was chosen with the routing simulator
    /// (scenarios B and H: equal agents that work in parallel).
    /// </summary>
    private static long Band(double cost) => BitConverter.DoubleToInt64Bits(cost) >> 48;
}
