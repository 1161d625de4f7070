using System.Runtime.ExceptionServices;
using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class RoutingContextTests
{
    [Fact]
    public void Candidates_TwoHalfOpenAgentsBeforeAnOpenOne_TheTwoProbesWithoutPanic()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3);
        f.Open(agents[0]);
        f.Open(agents[1]);
        f.Time.Advance(AgentHealthDefaults.BreakDuration);
        f.Open(agents[2]);
        var now = f.Time.GetTimestamp();
        Assert.Equal(CircuitState.HalfOpen, agents[0].Circuit.StateAt(now));
        Assert.Equal(CircuitState.HalfOpen, agents[1].Circuit.StateAt(now));
        Assert.Equal(CircuitState.Open, agents[2].Circuit.StateAt(now));

        var context = Context(f);
        Assert.False(context.Panic);
        Assert.Equal([agents[0], agents[1]], Candidates(context));
        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            var picked = Context(f).Pick(strategy, out var panicked);
            Assert.False(panicked, strategy.Name);
            Assert.Contains(picked, agents[..2]);
        }
    }

    [Theory]
    [InlineData(17)]
    [InlineData(100)]
    public void Candidates_MoreThanSixteenAgentsOnAThreadOfNoOrSmallerDecisions_EveryFreeAgent(int count)
    {
        var large = new RoutingFixture();
        var agents = large.Agents(count);
        var small = new RoutingFixture();
        small.Agents(3);
        Assert.Equal(agents, OnNewThread(() => Candidates(Context(large)))); // the thread's first decision
        Assert.Equal(agents, OnNewThread(() =>
        {
            _ = Context(small); // the thread's first decision is over a small pool
            return Candidates(Context(large));
        }));
    }

    [Fact]
    public void Pick_NoCandidate_NullWithoutConsultingTheStrategy()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2, maxConcurrency: 1);
        RoutingFixture.Load(agents[0], 1);
        RoutingFixture.Load(agents[1], 1);
        var strategy = new ScriptedStrategy((_, _) => agents[0]); // would hand the task to a full agent
        var context = Context(f);
        Assert.Null(context.Pick(strategy));
        Assert.Equal(0, strategy.Picks);
    }

    [Fact]
    public void Pick_StrategyAskedDirectlyWithNoCandidate_EveryStrategyReturnsNull()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3, maxConcurrency: 1);
        RoutingFixture.Load(agents[0], 1);
        agents[1].StartDraining();
        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            var context = new RoutingContext(f.Pool, f.Pool.Agents, ["a2"], new DefaultRandomSource(1), f.Time);
            Assert.True(context.Candidates.IsEmpty);
            Assert.Null(strategy.Pick(in context));
        }
    }

    [Fact]
    public void Pick_EmptyPool_EveryStrategyReturnsNull()
    {
        var f = new RoutingFixture();
        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            var context = Context(f);
            Assert.False(context.HasUntriedAgent);
            Assert.Null(context.Pick(strategy, out _));
            Assert.Null(strategy.Pick(in context));
        }
    }

    private static RoutingContext Context(RoutingFixture f) => new(f.Pool, f.Pool.Agents, [], new DefaultRandomSource(1), f.Time);

    private static T OnNewThread<T>(Func<T> work)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        failure?.Throw();
        return result!;
    }

    private static AgentState[] Candidates(in RoutingContext context)
    {
        var candidates = new AgentState[context.Candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = context.Candidates[i];
        }

        return candidates;
    }
}
