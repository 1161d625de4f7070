using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The hub default: best of two by <see cref="AgentScores.AdaptiveCost"/> — peak-EWMA latency x (pending + 1),
/// divided by trust, the squared success rate over the breaker's window and the slow-start factor. Open
/// circuits are filtered out before (healthy or panic, <see cref="RoutingContext.Pick(IRoutingStrategy)"/>).
/// <para>
/// The two candidates are one uniformly random eligible agent and the agent remembered from the pool's last
/// decision (Shah and Prabhakar's "two choices with memory"; two random agents when the remembered one is not
/// eligible for this task). Plain best-of-two samples agents uniformly, so in a pool of very unequal agents
/// a share of tasks meets two slow agents and must take one of them, whatever their scores; the remembered
/// candidate is, most of the time, a fast agent with room, which gives each task a good alternative. It does
/// not herd: the remembered agent is re-scored with its live pending count on every pick and loses to the
/// random candidate as soon as its load makes it costlier; after each pick the hub remembers whichever of
/// the two would now be cheaper.
/// </para>
/// </summary>
internal sealed class AdaptiveStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.Adaptive;

    public AgentState? Pick(in RoutingContext context)
    {
        var method = context.Method;
        var now = context.Now;
        AgentState a;
        AgentState? b;
        var remembered = context.Pool.Remembered;
        if (remembered is not null && context.IsEligible(remembered))
        {
            a = remembered;
            b = CandidateSampler.One(in context);
            if (ReferenceEquals(b, a))
            {
                b = null; // the random draw hit the remembered agent: it is the only candidate this time
            }
        }
        else if (!CandidateSampler.Two(in context, out a, out b))
        {
            return null;
        }

        if (b is null)
        {
            return a;
        }

        var costA = AgentScores.AdaptiveCost(a, method, now);
        var costB = AgentScores.AdaptiveCost(b, method, now);
        var (winner, winnerCost, loser, loserCost) = costA <= costB ? (a, costA, b, costB) : (b, costB, a, costA);

        // Remember the candidate that is cheaper once the winner carries this task too.
        var pending = winner.Pending;
        var winnerAfter = winnerCost * (pending + 2) / (pending + 1);
        context.Pool.Remembered = winnerAfter <= loserCost ? winner : loser;
        return winner;
    }
}
