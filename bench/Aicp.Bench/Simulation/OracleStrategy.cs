using Aicp.Hub.Registry;
using Aicp.Hub.Routing;

namespace Aicp.Bench.Simulation;

/// <summary>
/// The yardstick: the candidate with the lowest true expected completion time, from what only the simulation knows —
/// each agent's true mean service time (stalls and heavy tails included), its true parallelism, its failure rate and
/// the tasks it holds right now: <c>mean x max(1, (held + 1) / workers) / (1 - failureRate)</c>. It chooses among the
/// same candidates as the hub's strategies (healthy or panic, free slot, untried), and is greedy: it minimises each
/// task's own expected completion, not the tail of the whole run, so a strategy can beat it.
/// </summary>
internal sealed class OracleStrategy : IRoutingStrategy
{
    public const string StrategyName = "oracle";

    /// <summary>The true expected completion time in milliseconds of a task sent now to an agent; set by the simulation.</summary>
    public Func<AgentState, double> ExpectedCompletionMs { get; set; } = static _ => 0;

    public string Name => StrategyName;

    public AgentState? Pick(in RoutingContext context)
    {
        var candidates = context.Candidates;
        if (candidates.IsEmpty)
        {
            return null;
        }

        var i = context.Random.Next(candidates.Length); // ties go to the first after a random start, as in adaptive
        var best = candidates[i];
        var bestCost = ExpectedCompletionMs(best);
        for (var k = 1; k < candidates.Length; k++)
        {
            i = (i + 1) % candidates.Length;
            var cost = ExpectedCompletionMs(candidates[i]);
            if (cost < bestCost)
            {
                best = candidates[i];
                bestCost = cost;
            }
        }

        return best;
    }
}
