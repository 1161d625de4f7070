using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class WeightedPickTests
{
    [Fact]
    public void Choose_EveryWeightZero_NoAgent()
    {
        var f = new RoutingFixture();
        f.Agents(3);
        var context = new RoutingContext(f.Pool, f.Pool.Agents, [], new DefaultRandomSource(1), f.Time);
        Assert.Null(WeightedPick.Choose(in context, new TableWeight(new Dictionary<string, double>())));
    }

    [Fact]
    public void Choose_ZeroWeightBesideWeightedAgents_NeverChosen()
    {
        var f = new RoutingFixture();
        f.Agents(3);
        var weight = new TableWeight(new Dictionary<string, double> { ["a1"] = 1, ["a2"] = 3 });
        var random = new DefaultRandomSource(5);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 4000; i++)
        {
            var context = new RoutingContext(f.Pool, f.Pool.Agents, [], random, f.Time);
            var id = WeightedPick.Choose(in context, weight)!.AgentId;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        Assert.Equal(["a1", "a2"], counts.Keys.Order());
        Assert.InRange(counts["a2"], 2850, 3150); // 3 : 1
    }

    /// <summary>Weights by agent id; 0 for an agent not listed.</summary>
    private readonly struct TableWeight(Dictionary<string, double> weights) : IAgentWeight
    {
        public double Of(AgentState agent, string method, long now) => weights.GetValueOrDefault(agent.AgentId);
    }
}
