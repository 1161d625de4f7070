using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Infrastructure;

/// <summary>Agents, pools and contexts on a manual clock, for routing and agent-state tests.</summary>
internal sealed class RoutingFixture
{
    public const string Method = "image.label";

    public RoutingFixture(AgentHealthOptions? options = null)
    {
        Policy = new AgentHealthPolicy(options ?? new AgentHealthOptions(), Time);
        Pool = new CapabilityPool(Method, 100, Policy);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public AgentHealthPolicy Policy { get; }

    public CapabilityPool Pool { get; }

    public AgentState Agent(string id, int maxConcurrency = 10) =>
        new(id, "c-" + id, [Method], maxConcurrency, new Dictionary<string, string>(), Time.GetUtcNow(), Policy);

    /// <summary>A pool of fresh agents, joined to <see cref="Pool"/> as the registry joins them; time then moves past slow start unless told not to.</summary>
    public AgentState[] Agents(int count, int maxConcurrency = 10, bool pastSlowStart = true)
    {
        var agents = Enumerable.Range(0, count).Select(i => Agent($"a{i}", maxConcurrency)).ToArray();
        foreach (var agent in agents)
        {
            agent.JoinPool(Pool);
        }

        Pool.Replace(agents);
        if (pastSlowStart)
        {
            Time.Advance(AgentHealthDefaults.SlowStartWindow);
        }

        return agents;
    }

    public AgentState? Pick(IRoutingStrategy strategy, IRandomSource random, string[]? excluded = null) =>
        new RoutingContext(Pool, Pool.Agents, excluded ?? [], random, Time).Pick(strategy);

    public static IRoutingStrategy[] AllStrategies() =>
    [
        new RoundRobinStrategy(), new LeastLoadedStrategy(), new PowerOfTwoChoicesStrategy(), new TrustWeightedStrategy(),
        new PerformanceBasedStrategy(), new RandomStrategy(), new WeightedStrategy(), new AdaptiveStrategy(),
    ];

    /// <summary>Takes <paramref name="count"/> slots on the agent.</summary>
    public static void Load(AgentState agent, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(agent.TryAcquireSlot(panic: true));
        }
    }

    /// <summary>Opens the agent's circuit with consecutive errors.</summary>
    public void Open(AgentState agent)
    {
        for (var i = 0; i < AgentHealthDefaults.ConsecutiveFailures; i++)
        {
            agent.RecordCompletion(Method, 5, ok: false, Time.GetUtcNow());
        }

        Assert.Equal(CircuitState.Open, agent.Circuit.StateAt(Time.GetTimestamp()));
    }
}

/// <summary>A random source that replays a script of integers (then zeros) and fixed doubles.</summary>
internal sealed class ScriptedRandom(params int[] ints) : IRandomSource
{
    private readonly Queue<int> _ints = new(ints);

    public double NextDoubleValue { get; set; } = 0.5;

    public int Next(int maxExclusive)
    {
        var value = _ints.Count > 0 ? _ints.Dequeue() : 0;
        Assert.InRange(value, 0, maxExclusive - 1);
        return value;
    }

    public double NextDouble() => NextDoubleValue;
}

/// <summary>
/// A strategy a test scripts: each pick calls <paramref name="pick"/> with the pick's number (from 1) and the decision's
/// candidates, and picks what it returns (null: none). It may act on the agents first, as a concurrent task would.
/// </summary>
internal sealed class ScriptedStrategy(Func<int, AgentState[], AgentState?> pick) : IRoutingStrategy
{
    public const string StrategyName = "scripted";

    private int _picks;

    public string Name => StrategyName;

    /// <summary>How many picks the strategy was asked for.</summary>
    public int Picks => Volatile.Read(ref _picks);

    public AgentState? Pick(in RoutingContext context)
    {
        var candidates = new AgentState[context.Candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = context.Candidates[i];
        }

        return pick(Interlocked.Increment(ref _picks), candidates);
    }
}
