using System.Diagnostics;
using Aicp.Hub.Configuration;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Microsoft.Extensions.Options;

namespace Aicp.Bench.Commands;

/// <summary>
/// The cost of one routing decision with K candidates, measured in-process on the hub's real registry, pool and
/// strategies (no network): a pool of K registered agents, then as many picks as fit in about half a second.
/// </summary>
internal static class PickCost
{
    internal sealed record Figure(string Strategy, string Scenario, int Candidates, long Picks, double NsPerPick);

    public static IReadOnlyList<Figure> Measure(int candidates, long maxPicks = 100_000)
    {
        var registry = new AgentRegistry(Options.Create(new AicpHubOptions()), TimeProvider.System);
        var metadata = new Dictionary<string, string>();
        for (var i = 0; i < candidates; i++)
        {
            registry.Register($"conn-{i}", $"agent-{i}", ["bench.noop"], 1, metadata);
        }

        var pool = registry.GetPool("bench.noop")!;
        var random = new DefaultRandomSource(seed: 1);
        IRoutingStrategy[] strategies = [new LeastLoadedStrategy(), new RoundRobinStrategy()];
        var figures = new List<Figure>();
        foreach (var strategy in strategies)
        {
            figures.Add(Time(strategy, pool, random, "all idle", candidates, maxPicks));
        }

        // Nine in ten agents at their limit (maxConcurrency 1): a busy fleet, where scans skip full agents.
        var agents = pool.Agents;
        for (var i = 0; i < agents.Length; i++)
        {
            if (i % 10 != 0)
            {
                agents[i].TryAcquireSlot();
            }
        }

        foreach (var strategy in strategies)
        {
            figures.Add(Time(strategy, pool, random, "90% busy", candidates, maxPicks));
        }

        return figures;
    }

    private static Figure Time(IRoutingStrategy strategy, CapabilityPool pool, IRandomSource random, string scenario, int candidates, long maxPicks)
    {
        var budget = Stopwatch.Frequency / 2;
        AgentState? sink = null;
        for (var i = 0; i < 1_000; i++)
        {
            sink = PickOnce(strategy, pool, random) ?? sink; // warm-up (tiering)
        }

        long picks = 0;
        var start = Stopwatch.GetTimestamp();
        long elapsed;
        do
        {
            for (var i = 0; i < 100; i++)
            {
                sink = PickOnce(strategy, pool, random) ?? sink;
            }

            picks += 100;
            elapsed = Stopwatch.GetTimestamp() - start;
        }
        while (picks < maxPicks && elapsed < budget);

        GC.KeepAlive(sink);
        return new Figure(strategy.Name, scenario, candidates, picks, Math.Round(elapsed * 1e9 / Stopwatch.Frequency / picks, 1));
    }

    private static AgentState? PickOnce(IRoutingStrategy strategy, CapabilityPool pool, IRandomSource random)
    {
        var context = new RoutingContext(pool, pool.Agents, [], random);
        return strategy.Pick(in context);
    }
}
