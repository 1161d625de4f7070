using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>A uniformly random candidate. The baseline every other strategy should beat.</summary>
internal sealed class RandomStrategy : IRoutingStrategy
{
    public string Name => RoutingStrategyNames.Random;

    public AgentState? Pick(in RoutingContext context) => CandidateSampler.One(in context);
}
