using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Power of two choices (YARP's default, Envoy's least-request): two distinct random candidates, keep the one with
/// fewer pending tasks (<see cref="AgentScores.LoadCost"/>, which slow start inflates for a new agent). Near the
/// quality of a full least-loaded scan at constant cost, and robust to herding on stale or distributed load views.
/// </summary>
internal sealed class PowerOfTwoChoicesStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.PowerOfTwo;

    public AgentState? Pick(in RoutingContext context)
    {
        // Stryker disable once Block : without candidates both samples are null, and the line below returns the first: null
        if (!CandidateSampler.Two(in context, out var a, out var b))
        {
            return null;
        }

        // Stryker disable once Equality : the two samples are a uniformly random ordered pair, so a tie kept by the second is as fair as one kept by the first
        return b is null || AgentScores.LoadCost(a, context.Now) <= AgentScores.LoadCost(b, context.Now) ? a : b;
    }
}
