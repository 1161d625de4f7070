using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using BenchmarkDotNet.Attributes;

namespace Aicp.Bench.Routing;

/// <summary>
/// One routing decision as the dispatcher makes it: build the <see cref="RoutingContext"/> (one clock read) and
/// call <see cref="RoutingContext.Pick(IRoutingStrategy)"/> (healthy or panic) on a pool of N agents with
/// varied pending counts and latency histories. The slot is not taken, so every iteration sees the same pool.
/// </summary>
[MemoryDiagnoser]
public class PickBenchmarks
{
    private const string Method = "image.label";
    private IRoutingStrategy _strategy = null!;
    private CapabilityPool _pool = null!;
    private readonly IRandomSource _random = new DefaultRandomSource();

    [Params(10, 100, 1000)]
    public int Candidates { get; set; }

    [Params(RoutingStrategyNames.PowerOfTwo, RoutingStrategyNames.PerformanceBased, RoutingStrategyNames.Adaptive,
        RoutingStrategyNames.Random, RoutingStrategyNames.RoundRobin, RoutingStrategyNames.LeastLoaded, RoutingStrategyNames.Weighted)]
    public string Strategy { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new RoutingStrategyCatalog(
        [
            new RoundRobinStrategy(), new LeastLoadedStrategy(), new PowerOfTwoChoicesStrategy(), new TrustWeightedStrategy(),
            new PerformanceBasedStrategy(), new RandomStrategy(), new WeightedStrategy(), new AdaptiveStrategy(),
        ]);
        catalog.TryGet(Strategy, out var strategy);
        _strategy = strategy!;
        var random = new Random(42);
        var agents = new AgentState[Candidates];
        for (var i = 0; i < agents.Length; i++)
        {
            var agent = new AgentState($"agent-{i}", $"conn-{i}", [Method], 64, new Dictionary<string, string>(), DateTimeOffset.UtcNow);
            for (var k = random.Next(0, 6); k > 0; k--)
            {
                agent.TryAcquireSlot();
            }

            agent.RecordCompletion(Method, random.Next(5, 200), ok: true, DateTimeOffset.UtcNow);
            agents[i] = agent;
        }

        _pool = new CapabilityPool(Method, 100);
        _pool.Replace(agents);
    }

    [Benchmark]
    public object? Pick()
    {
        var context = new RoutingContext(_pool, _pool.Agents, [], _random);
        return context.Pick(_strategy);
    }
}
