using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class LoadAwareStrategyTests
{
    private const string Method = RoutingFixture.Method;

    private static Dictionary<string, int> Distribution(RoutingFixture f, IRoutingStrategy strategy, int picks, int seed = 11)
    {
        var random = new DefaultRandomSource(seed);
        var counts = f.Pool.Agents.ToDictionary(a => a.AgentId, _ => 0);
        for (var i = 0; i < picks; i++)
        {
            counts[f.Pick(strategy, random)!.AgentId]++;
        }

        return counts;
    }

    [Fact]
    public void Pick_PowerOfTwo_FewerPendingOfTheTwoSampled()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3);
        RoutingFixture.Load(agents[0], 3);
        // samples index 0, then index 0 of the other two (agent 1)
        Assert.Same(agents[1], f.Pick(new PowerOfTwoChoicesStrategy(), new ScriptedRandom(0, 0)));
        // samples agent 2, then agent 0: agent 2 has fewer pending
        Assert.Same(agents[2], f.Pick(new PowerOfTwoChoicesStrategy(), new ScriptedRandom(2, 0)));
    }

    [Fact]
    public void Pick_PerformanceBased_LowerLatencyTimesPendingWins()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        agents[0].RecordCompletion(Method, 10, ok: true, f.Time.GetUtcNow());
        agents[1].RecordCompletion(Method, 50, ok: true, f.Time.GetUtcNow());
        var strategy = new PerformanceBasedStrategy();
        Assert.Same(agents[0], f.Pick(strategy, new ScriptedRandom(1, 0))); // 10 x 1 < 50 x 1

        RoutingFixture.Load(agents[0], 5); // 10 x 6 = 60 > 50 x 1
        Assert.Same(agents[1], f.Pick(strategy, new ScriptedRandom(0, 0)));
    }

    [Fact]
    public void Pick_PerformanceBasedNoHistory_UsesDefaultLatency()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        agents[0].RecordCompletion(Method, 40, ok: true, f.Time.GetUtcNow()); // 40 > default 30
        Assert.Same(agents[1], f.Pick(new PerformanceBasedStrategy(), new ScriptedRandom(0, 0)));
    }

    [Fact]
    public void Pick_AdaptiveEqualSpeed_PrefersTheReliableAgent()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        for (var i = 0; i < 10; i++)
        {
            agents[0].RecordCompletion(Method, 20, ok: i % 3 != 0, f.Time.GetUtcNow()); // fails a third (not 5 in a row)
            agents[1].RecordCompletion(Method, 20, ok: true, f.Time.GetUtcNow());
        }

        RoutingFixture.Load(agents[1], 3); // even with 3 pending the reliable agent is cheaper
        Assert.Same(agents[1], f.Pick(new AdaptiveStrategy(), new ScriptedRandom(0, 0)));
        Assert.True(AgentScores.AdaptiveCost(agents[0], Method, f.Time.GetTimestamp()) > 4 * AgentScores.AdaptiveCost(agents[1], Method, f.Time.GetTimestamp()));
    }

    [Fact]
    public void Pick_AdaptiveParallelAgentUnderLoad_PreferredToAQueueingAgentWithLessLoad()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2, maxConcurrency: 64);
        var (parallel, serial) = (agents[0], agents[1]);
        for (var i = 0; i < 40; i++)
        {
            var load = i % 8;
            parallel.RecordCompletion(Method, 10, ok: true, f.Time.GetUtcNow(), load); // flat: runs tasks side by side
            serial.RecordCompletion(Method, 10 * (load + 1), ok: true, f.Time.GetUtcNow(), load); // one at a time
            f.Time.Advance(TimeSpan.FromMilliseconds(50));
        }

        RoutingFixture.Load(parallel, 6);
        RoutingFixture.Load(serial, 2);
        var now = f.Time.GetTimestamp();
        Assert.InRange(AgentScores.PredictedCompletionMs(parallel, Method, now), 9, 13);
        Assert.InRange(AgentScores.PredictedCompletionMs(serial, Method, now), 28, 32);
        for (var start = 0; start < 2; start++)
        {
            Assert.Same(parallel, f.Pick(new AdaptiveStrategy(), new ScriptedRandom(start)));
        }
    }

    [Fact]
    public void Pick_AdaptiveTenTimesSlowerAgentIdle_FastAgentsWithWorkInFlightStillWin()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3);
        for (var i = 0; i < 30; i++)
        {
            agents[0].RecordCompletion(Method, 10, ok: true, f.Time.GetUtcNow(), i % 6);
            agents[1].RecordCompletion(Method, 12, ok: true, f.Time.GetUtcNow(), i % 6);
            f.Time.Advance(TimeSpan.FromMilliseconds(100));
        }

        agents[2].RecordCompletion(Method, 100, ok: true, f.Time.GetUtcNow(), 0);
        RoutingFixture.Load(agents[0], 5);
        RoutingFixture.Load(agents[1], 5);
        var random = new DefaultRandomSource(4);
        for (var i = 0; i < 100; i++)
        {
            Assert.NotSame(agents[2], f.Pick(new AdaptiveStrategy(), random));
        }
    }

    [Fact]
    public void Pick_AdaptiveAgentHoldingWorkWithoutProgress_AvoidedLongBeforeItsTimeout()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        foreach (var agent in agents)
        {
            agent.RecordCompletion(Method, 10, ok: true, f.Time.GetUtcNow(), 0);
        }

        RoutingFixture.Load(agents[0], 1);
        f.Time.Advance(TimeSpan.FromMilliseconds(5));
        // busy for 5 ms: no sign of a stall, the model decides (one sample at load 0, so one task at a time: 2 x 10 ms)
        Assert.InRange(AgentScores.PredictedCompletionMs(agents[0], Method, f.Time.GetTimestamp()), 19.9, 20);

        f.Time.Advance(TimeSpan.FromMilliseconds(495));
        Assert.Equal(500, AgentScores.PredictedCompletionMs(agents[0], Method, f.Time.GetTimestamp()), 3);
        Assert.Same(agents[1], f.Pick(new AdaptiveStrategy(), new ScriptedRandom(0)));
    }

    [Fact]
    public void Pick_Weighted_ShareFollowsInverseLatency()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        agents[0].RecordCompletion(Method, 10, ok: true, f.Time.GetUtcNow());
        agents[1].RecordCompletion(Method, 30, ok: true, f.Time.GetUtcNow());
        var counts = Distribution(f, new WeightedStrategy(), 4000);
        Assert.InRange(counts["a0"], 2800, 3200); // weights 1/10 : 1/30 = 3 : 1
    }

    [Fact]
    public void Pick_TrustWeighted_ShareFollowsTrust()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        for (var i = 0; i < 4; i++)
        {
            agents[0].RecordCompletion(Method, 10, ok: false, f.Time.GetUtcNow()); // 0.5 x 0.9^4 = 0.328
        }

        var counts = Distribution(f, new TrustWeightedStrategy(), 4000);
        var expected = 4000 * 0.328 / (0.328 + 0.5);
        Assert.InRange(counts["a0"], expected - 150, expected + 150);
    }

    [Fact]
    public void Pick_Random_CoversEveryEligibleAgentEvenly()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(5, maxConcurrency: 1);
        RoutingFixture.Load(agents[4], 1);
        var random = new DefaultRandomSource(5);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 4000; i++)
        {
            var id = f.Pick(new RandomStrategy(), random, ["a3"])!.AgentId;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        Assert.Equal(["a0", "a1", "a2"], counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, 1200, 1470));
    }

    [Fact]
    public void Pick_MostAgentsFull_SamplerFallsBackToScanAndStillFindsTheFreeOne()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(200, maxConcurrency: 1);
        foreach (var agent in agents.Where(a => a.AgentId != "a137"))
        {
            RoutingFixture.Load(agent, 1);
        }

        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            Assert.Equal("a137", f.Pick(strategy, new DefaultRandomSource(9))!.AgentId);
        }
    }

    [Theory]
    [InlineData(RoutingStrategyNames.PowerOfTwo)]
    [InlineData(RoutingStrategyNames.PerformanceBased)]
    [InlineData(RoutingStrategyNames.Adaptive)]
    public void Pick_BestOfTwoEqualAgents_SpreadsEvenly(string name)
    {
        var f = new RoutingFixture();
        f.Agents(4);
        var strategy = RoutingFixture.AllStrategies().Single(s => s.Name == name);
        var counts = Distribution(f, strategy, 4000);
        Assert.All(counts.Values, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void Catalog_EveryBuiltInStrategy_RegisteredByName()
    {
        var catalog = new RoutingStrategyCatalog(RoutingFixture.AllStrategies());
        Assert.Equal(
            [RoutingStrategyNames.Adaptive, RoutingStrategyNames.LeastLoaded, RoutingStrategyNames.PerformanceBased, RoutingStrategyNames.PowerOfTwo,
             RoutingStrategyNames.Random, RoutingStrategyNames.RoundRobin, RoutingStrategyNames.TrustWeighted, RoutingStrategyNames.Weighted],
            catalog.Names);
    }
}
