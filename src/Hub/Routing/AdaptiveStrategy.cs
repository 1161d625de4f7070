using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The hub default. Of two random eligible agents, the one with the lower
/// <see cref="AgentScores.AdaptiveCost"/>: peak-EWMA latency x (pending + 1), divided by trust, the squared
/// success rate over the breaker's window and the slow-start factor. Open circuits are filtered out before
/// (healthy or panic, <see cref="RoutingContext.Pick"/>). Best of two keeps it herd-free.
/// </summary>
internal sealed class AdaptiveStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.Adaptive;

    public AgentState? Pick(in RoutingContext context)
    {
        if (!CandidateSampler.Two(in context, out var a, out var b))
        {
            return null;
        }

        return b is null || AgentScores.AdaptiveCost(a, context.Method, context.Now) <= AgentScores.AdaptiveCost(b, context.Method, context.Now) ? a : b;
    }
}
