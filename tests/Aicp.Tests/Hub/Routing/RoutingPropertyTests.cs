using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

/// <summary>Invariants every strategy keeps over many random agent sets (seeded, so reproducible).</summary>
public sealed class RoutingPropertyTests
{
    [Fact]
    public void Pick_RandomAgentSets_EligibleNeverFullNeverOpenUnlessAllOpen()
    {
        var random = new Random(20261121);
        for (var round = 0; round < 400; round++)
        {
            var f = new RoutingFixture();
            var agents = Enumerable.Range(0, random.Next(1, 14)).Select(i => f.Agent($"a{i}", random.Next(1, 4))).ToArray();
            f.Pool.Replace(agents);
            f.Time.Advance(TimeSpan.FromSeconds(random.Next(0, 15)));
            foreach (var agent in agents)
            {
                var roll = random.Next(10);
                if (roll < 3)
                {
                    f.Open(agent);
                    if (random.Next(3) == 0)
                    {
                        f.Time.Advance(TimeSpan.FromSeconds(1)); // others may become half-open later
                    }
                }
                else if (roll == 3)
                {
                    agent.StartDraining();
                }

                for (var k = random.Next(0, 4); k > 0; k--)
                {
                    agent.TryAcquireSlot(panic: true);
                }

                for (var k = random.Next(0, 3); k > 0; k--)
                {
                    agent.RecordCompletion(RoutingFixture.Method, random.Next(1, 200), ok: random.Next(4) != 0, f.Time.GetUtcNow());
                }
            }

            if (random.Next(4) == 0)
            {
                f.Time.Advance(TimeSpan.FromSeconds(30)); // some breaks end: half-open agents
            }

            string[] excluded = [.. agents.Where(_ => random.Next(4) == 0).Select(a => a.AgentId)];
            var now = f.Time.GetTimestamp();
            bool Untried(AgentState a) => !a.IsDraining && !a.IsRemoved && !excluded.Contains(a.AgentId);
            bool Free(AgentState a) => a.HasFreeSlot && !excluded.Contains(a.AgentId);
            var anyHealthy = agents.Any(a => Untried(a) && a.Circuit.Admits(now));
            var expectPick = anyHealthy ? agents.Any(a => Free(a) && a.Circuit.Admits(now)) : agents.Any(Free);

            foreach (var strategy in RoutingFixture.AllStrategies())
            {
                var context = new RoutingContext(f.Pool, f.Pool.Agents, excluded, new DefaultRandomSource(round), f.Time);
                var picked = context.Pick(strategy, out var panicked);
                var what = $"round {round}, {strategy.Name}";
                Assert.True(expectPick == picked is not null, what);
                if (picked is null)
                {
                    continue;
                }

                Assert.Contains(picked, agents);
                Assert.True(picked.HasFreeSlot, what);
                Assert.True(picked.Pending < picked.MaxConcurrency, what);
                Assert.DoesNotContain(picked.AgentId, excluded);
                Assert.Equal(!anyHealthy, panicked);
                if (anyHealthy)
                {
                    Assert.True(picked.Circuit.Admits(now), what);
                    Assert.NotEqual(CircuitState.Open, picked.Circuit.StateAt(now));
                }
            }
        }
    }

    [Fact]
    public void Pick_EveryAgentOpen_RoutesAmongThemInPanic()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3);
        foreach (var agent in agents)
        {
            f.Open(agent);
        }

        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            var context = new RoutingContext(f.Pool, f.Pool.Agents, [], new DefaultRandomSource(1), f.Time);
            var picked = context.Pick(strategy, out var panicked);
            Assert.NotNull(picked);
            Assert.True(panicked);
            Assert.True(picked.TryAcquireSlot(panicked));
            picked.ReleaseSlot();
        }
    }

    [Fact]
    public void Pick_HealthyAgentFullOthersOpen_WaitsInsteadOfPanicking()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(3, maxConcurrency: 1);
        f.Open(agents[0]);
        f.Open(agents[1]);
        RoutingFixture.Load(agents[2], 1);
        foreach (var strategy in RoutingFixture.AllStrategies())
        {
            Assert.Null(f.Pick(strategy, new DefaultRandomSource(2)));
        }
    }
}
