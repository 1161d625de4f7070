using Aicp.Hub.Registry;
using Aicp.Hub.Routing;

namespace Aicp.Tests.Hub.Routing;

public sealed class StrategyTests
{
    private static (CapabilityPool Pool, AgentState[] Agents) Pool(params int[] maxConcurrency)
    {
        var pool = new CapabilityPool("image.label", 100);
        var agents = maxConcurrency.Select((max, i) => new AgentState($"a{i}", $"c{i}", ["image.label"], max,
            new Dictionary<string, string>(), DateTimeOffset.UnixEpoch)).ToArray();
        pool.Replace(agents);
        return (pool, agents);
    }

    private static AgentState? Pick(IRoutingStrategy strategy, CapabilityPool pool, string[]? excluded = null, int seed = 1) =>
        strategy.Pick(new RoutingContext(pool, pool.Agents, excluded ?? [], new DefaultRandomSource(seed)));

    [Fact]
    public void Pick_RoundRobin_CyclesEvenly()
    {
        var (pool, agents) = Pool(10, 10, 10);
        var strategy = new RoundRobinStrategy();
        var counts = agents.ToDictionary(a => a.AgentId, _ => 0);
        for (var i = 0; i < 300; i++)
        {
            counts[Pick(strategy, pool)!.AgentId]++;
        }

        Assert.All(counts.Values, c => Assert.Equal(100, c));
    }

    [Fact]
    public void Pick_RoundRobin_SkipsFullAndExcludedAgents()
    {
        var (pool, agents) = Pool(1, 1, 1);
        Assert.True(agents[0].TryAcquireSlot());
        var strategy = new RoundRobinStrategy();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("a2", Pick(strategy, pool, ["a1"])!.AgentId);
        }
    }

    [Fact]
    public void Pick_LeastLoaded_FewestPending()
    {
        var (pool, agents) = Pool(10, 10, 10);
        agents[0].TryAcquireSlot();
        agents[0].TryAcquireSlot();
        agents[1].TryAcquireSlot();
        Assert.Equal("a2", Pick(new LeastLoadedStrategy(), pool)!.AgentId);
    }

    [Fact]
    public void Pick_LeastLoadedTies_SpreadsAcrossTiedAgents()
    {
        var (pool, _) = Pool(10, 10, 10, 10);
        var random = new DefaultRandomSource(42);
        var counts = new Dictionary<string, int>();
        var strategy = new LeastLoadedStrategy();
        for (var i = 0; i < 4000; i++)
        {
            var id = strategy.Pick(new RoutingContext(pool, pool.Agents, [], random))!.AgentId;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
    }

    [Theory]
    [InlineData(2, 10.83)] // chi-square critical values at p = 0.001, for ties - 1 degrees of freedom
    [InlineData(3, 13.82)]
    [InlineData(4, 16.27)]
    [InlineData(7, 22.46)]
    public void Pick_LeastLoadedTies_UniformOverTheTiedAgents(int ties, double critical)
    {
        // the tied agents alternate with busier ones, which never win
        var (pool, agents) = Pool([.. Enumerable.Repeat(10, 2 * ties)]);
        foreach (var agent in agents.Where((_, i) => i % 2 == 1))
        {
            agent.TryAcquireSlot();
        }

        var random = new SeededRandom(ties);
        var strategy = new LeastLoadedStrategy();
        var picks = 10_000 * ties;
        var counts = new int[agents.Length];
        for (var i = 0; i < picks; i++)
        {
            counts[Array.IndexOf(agents, strategy.Pick(new RoutingContext(pool, pool.Agents, [], random)))]++;
        }

        Assert.All(counts.Where((_, i) => i % 2 == 1), c => Assert.Equal(0, c));
        double expected = picks / ties;
        var chiSquare = counts.Where((_, i) => i % 2 == 0).Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chiSquare < critical, $"chi-square {chiSquare:F1} over {ties} tied agents: {string.Join(", ", counts)}");
    }

    [Theory]
    [InlineData(RoutingStrategyNames.RoundRobin)]
    [InlineData(RoutingStrategyNames.LeastLoaded)]
    public void Pick_EveryAgentFullOrExcluded_Null(string name)
    {
        var (pool, agents) = Pool(1, 1, 1);
        agents[0].TryAcquireSlot();
        agents[1].TryAcquireSlot();
        var strategy = new RoutingStrategyCatalog([new RoundRobinStrategy(), new LeastLoadedStrategy()]).TryGet(name, out var s) ? s : null;
        Assert.Null(Pick(strategy!, pool, ["a2"]));
    }

    [Fact]
    public void Pick_RandomAgentSets_AlwaysEligible()
    {
        var random = new Random(7);
        IRoutingStrategy[] strategies = [new RoundRobinStrategy(), new LeastLoadedStrategy()];
        for (var round = 0; round < 500; round++)
        {
            var (pool, agents) = Pool([.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(1, 4))]);
            foreach (var agent in agents)
            {
                for (var k = random.Next(0, 4); k > 0; k--)
                {
                    agent.TryAcquireSlot();
                }

                if (random.Next(10) == 0)
                {
                    agent.StartDraining();
                }
            }

            string[] excluded = [.. agents.Where(_ => random.Next(4) == 0).Select(a => a.AgentId)];
            var anyEligible = agents.Any(a => a.HasFreeSlot && !excluded.Contains(a.AgentId));
            foreach (var strategy in strategies)
            {
                var picked = Pick(strategy, pool, excluded, round);
                if (!anyEligible)
                {
                    Assert.Null(picked);
                    continue;
                }

                Assert.NotNull(picked);
                Assert.True(picked.HasFreeSlot);
                Assert.DoesNotContain(picked.AgentId, excluded);
            }
        }
    }

    [Fact]
    public void Catalog_LookupIsCaseInsensitive_AndUnknownIsFalse()
    {
        var catalog = new RoutingStrategyCatalog([new RoundRobinStrategy(), new LeastLoadedStrategy()]);
        Assert.True(catalog.TryGet("Round-Robin", out var s));
        Assert.Equal(RoutingStrategyNames.RoundRobin, s.Name);
        Assert.False(catalog.TryGet("fastest", out _));
        Assert.Equal([RoutingStrategyNames.LeastLoaded, RoutingStrategyNames.RoundRobin], catalog.Names);
    }

    [Fact]
    public void Catalog_TwoStrategiesOfTheSameName_Refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RoutingStrategyCatalog([new RoundRobinStrategy(), new LeastLoadedStrategy(), new RoundRobinStrategy()]));
        Assert.Equal("Two routing strategies are named 'round-robin'.", error.Message);
    }

    [Fact]
    public void Catalog_NoName_False()
    {
        var catalog = new RoutingStrategyCatalog([new RoundRobinStrategy()]);
        Assert.False(catalog.TryGet(null, out var strategy));
        Assert.Null(strategy);
    }

    /// <summary>A reproducible random source: one seeded generator, whatever the thread.</summary>
    private sealed class SeededRandom(int seed) : IRandomSource
    {
        private readonly Random _random = new(seed);

        public int Next(int maxExclusive) => _random.Next(maxExclusive);

        public double NextDouble() => _random.NextDouble();
    }
}
