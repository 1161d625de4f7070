using Aicp.Hub.Configuration;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class AdaptiveStrategyTests
{
    [Theory]
    [InlineData(0, 5)]
    [InlineData(30, 5)] // the scored run wraps past the end of the pool
    [InlineData(30, 21)] // the last of the 32 scored
    public void Pick_MorePoolThanScored_TheIdleAgentAmongTheScoredWins(int start, int idle)
    {
        var f = new RoutingFixture();
        var agents = f.Agents(AdaptiveStrategy.MaxScored + 8);
        foreach (var agent in agents.Where((_, i) => i != idle))
        {
            RoutingFixture.Load(agent, 3);
        }

        Assert.Same(agents[idle], f.Pick(new AdaptiveStrategy(), new ScriptedRandom(start)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Pick_EqualPredictedCost_TheAgentWithTheLowerShareOfItsSlotsInUse(int start)
    {
        var f = new RoutingFixture();
        AgentState[] agents = [f.Agent("small", maxConcurrency: 2), f.Agent("large", maxConcurrency: 8)];
        foreach (var agent in agents)
        {
            agent.JoinPool(f.Pool);
        }

        f.Pool.Replace(agents);
        f.Time.Advance(AgentHealthDefaults.SlowStartWindow);
        foreach (var agent in agents)
        {
            RoutingFixture.Load(agent, 1); // 1 of 2 slots against 1 of 8; no history: both predicted at 2 x 30 ms
        }

        var now = f.Time.GetTimestamp();
        Assert.Equal(AgentScores.AdaptiveCost(agents[0], RoutingFixture.Method, now), AgentScores.AdaptiveCost(agents[1], RoutingFixture.Method, now));
        Assert.Same(agents[1], f.Pick(new AdaptiveStrategy(), new ScriptedRandom(start)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Pick_ExactTie_TheFirstTiedAgentFromTheRandomStart(int start)
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3);
        Assert.Same(agents[start], f.Pick(new AdaptiveStrategy(), new ScriptedRandom(start)));
    }
}
