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
    /// <param name="NsPerPick">Thread CPU time per pick: what a pick costs, whatever else the shared machine runs.</param>
    /// <param name="WallNsPerPick">Elapsed time per pick, inflated when other processes take the core.</param>
    internal sealed record Figure(string Strategy, string Scenario, int Candidates, long Picks, double NsPerPick, double WallNsPerPick);

    public static IReadOnlyList<Figure> Measure(int candidates, long maxPicks = 100_000)
    {
        var registry = new AgentRegistry(Options.Create(new AicpHubOptions()), TimeProvider.System);
        var metadata = new Dictionary<string, string>();
        for (var i = 0; i < candidates; i++)
        {
            registry.Register($"conn-{i}", $"agent-{i}", ["bench.noop"], 1, metadata);
        }

        var pool = registry.GetPool("bench.noop")!;
        var random = new DefaultRandomSource(); // unseeded, as the hub runs by default (Random.Shared)
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
        // Warm-up long enough for tiered compilation to install optimized code (it waits ~100 ms before recompiling).
        var warm = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() - warm < Stopwatch.Frequency / 4)
        {
            sink = PickOnce(strategy, pool, random) ?? sink;
        }

        long picks = 0;
        var cpuStart = ThreadCpu.Nanoseconds();
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

        var cpu = ThreadCpu.Nanoseconds() - cpuStart;
        GC.KeepAlive(sink);
        return new Figure(strategy.Name, scenario, candidates, picks, Math.Round((double)cpu / picks, 1),
            Math.Round(elapsed * 1e9 / Stopwatch.Frequency / picks, 1));
    }

    private static AgentState? PickOnce(IRoutingStrategy strategy, CapabilityPool pool, IRandomSource random)
    {
        var context = new RoutingContext(pool, pool.Agents, [], random);
        return strategy.Pick(in context);
    }
}

/// <summary>CPU time consumed by the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>).</summary>
internal static class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static long Nanoseconds() =>
        clock_gettime(ClockThreadCpuTimeId, out var ts) == 0 ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : 0;

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int clock_gettime(int clockId, out Timespec ts);

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
