using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Hosting;
using Aicp.Protocol;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>cluster-throughput</c>: tasks per second of two hub nodes on a loopback redis-server with the load spread over
/// both (the agents and the submitters split between them), against one hub (not a node of a cluster) with the same
/// agents and submitters, in the same run. Agents answer at once; each submitter keeps <c>--concurrency</c> over the
/// submitters tasks in flight (closed loop). The two nodes run twice: with the default rule (an agent of the other
/// node when it is strictly less loaded) and with <c>Aicp:Cluster:PreferLocal=true</c>. Everything runs in this
/// process, so every setup shares the same cores. A first run warms up (not reported); reports each run and the
/// medians of the rates, of the ratios and of the share of tasks that ran across nodes.
/// </summary>
internal static class ClusterThroughputCommand
{
    public const string Name = "cluster-throughput";
    private const string Method = "bench.echo";
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Agents in all (split over the two nodes)", 4, min: 2, max: 1_000);
    private static readonly Option<int> Submitters = BenchOptions.Int("--submitters", "Submitter connections in all (split over the two nodes)", 4, min: 2, max: 1_000);
    private static readonly Option<int> Concurrency = BenchOptions.Int("--concurrency", "Tasks in flight in all", 64, max: 100_000);
    private static readonly Option<int> Seconds = BenchOptions.Int("--seconds", "Seconds measured per setup and run (after a 1 s warm-up)", 5, max: 3_600);
    private static readonly Option<int> Runs = BenchOptions.Int("--runs", "Runs (each measures both setups)", 3, max: 100);
    private static readonly Option<double?> HopCostMs = BenchOptions.Double("--hop-cost-ms",
        "Aicp:Cluster:HopCostMs of the default-rule nodes; the hub's default when not given", null, 0, 60_000);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "Tasks/s of two hub nodes with the load spread over both, against one hub with the same agents and submitters, same run.")
        {
            Agents, Submitters, Concurrency, Seconds, Runs, HopCostMs, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var agents = parse.GetValue(Agents);
        var submitters = parse.GetValue(Submitters);
        var concurrency = parse.GetValue(Concurrency);
        var seconds = parse.GetValue(Seconds);
        var runs = parse.GetValue(Runs);
        var hopCostMs = parse.GetValue(HopCostMs);
        await using var redis = await RedisProcess.StartAsync();
        var results = new List<RunResult>();
        for (var run = 0; run <= runs; run++)
        {
            double rate;
            await using (var one = await BenchCluster.StartAloneAsync())
            {
                (rate, _) = await MeasureAsync([one], agents, submitters, concurrency, seconds);
            }

            var (p2c, p2cCross) = await MeasureTwoNodesAsync(redis, preferLocal: false, hopCostMs, agents, submitters, concurrency, seconds);
            var (local, localCross) = await MeasureTwoNodesAsync(redis, preferLocal: true, hopCostMs: null, agents, submitters, concurrency, seconds);
            var result = new RunResult(Math.Round(rate, 1), Math.Round(p2c, 1), Math.Round(p2cCross, 1), Math.Round(local, 1), Math.Round(localCross, 1));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{Name}] {(run == 0 ? "warm-up" : $"run {run}")}: one hub {rate:F0} tasks/s; two nodes {p2c:F0} tasks/s ({p2cCross:F1}% across nodes), " +
                $"with PreferLocal {local:F0} tasks/s ({localCross:F1}%); load {Machine.LoadAverage()}"));
            if (run > 0)
            {
                results.Add(result);
            }
        }

        var oneMedian = LatencySummary.Median(results.Select(r => r.OneHub));
        var twoMedian = LatencySummary.Median(results.Select(r => r.TwoNodes));
        var ratio = LatencySummary.Median(results.Select(r => r.TwoNodes / r.OneHub));
        var cross = LatencySummary.Median(results.Select(r => r.CrossNodePercent));
        var localMedian = LatencySummary.Median(results.Select(r => r.TwoNodesPreferLocal));
        var localRatio = LatencySummary.Median(results.Select(r => r.TwoNodesPreferLocal / r.OneHub));
        var localCrossMedian = LatencySummary.Median(results.Select(r => r.PreferLocalCrossNodePercent));
        if (parse.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                machine = Machine.Describe(), load = Machine.LoadAverage(), agents, submitters, concurrency, seconds, runs, hopCostMs, perRun = results,
                oneHubTasksPerSecond = oneMedian, twoNodesTasksPerSecond = twoMedian, ratio = Math.Round(ratio, 3), crossNodePercent = cross,
                twoNodesPreferLocalTasksPerSecond = localMedian, preferLocalRatio = Math.Round(localRatio, 3), preferLocalCrossNodePercent = localCrossMedian,
            }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {agents} agents, {submitters} submitters, {concurrency} tasks in flight, {seconds} s per setup, {runs} run(s); {Machine.Describe()}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  medians: one hub {oneMedian:F0} tasks/s; two nodes {twoMedian:F0} tasks/s, ratio {ratio:F2}, {cross:F1}% across nodes; " +
                $"two nodes with PreferLocal {localMedian:F0} tasks/s, ratio {localRatio:F2}, {localCrossMedian:F1}% across nodes"));
        }

        return 0;
    }

    private static async Task<(double Rate, double CrossNodePercent)> MeasureTwoNodesAsync(RedisProcess redis, bool preferLocal, double? hopCostMs,
        int agents, int submitters, int concurrency, int seconds)
    {
        var settings = new Dictionary<string, string?> { ["Aicp:Cluster:PreferLocal"] = preferLocal ? "true" : "false" };
        if (hopCostMs is { } cost)
        {
            settings["Aicp:Cluster:HopCostMs"] = cost.ToString(CultureInfo.InvariantCulture);
        }

        await using var first = await BenchCluster.StartNodeAsync(redis, 0, settings);
        await using var second = await BenchCluster.StartNodeAsync(redis, 1, settings);
        return await MeasureAsync([first, second], agents, submitters, concurrency, seconds);
    }

    private sealed record RunResult(double OneHub, double TwoNodes, double CrossNodePercent, double TwoNodesPreferLocal, double PreferLocalCrossNodePercent);

    /// <summary>The agents and submitters split round-robin over <paramref name="hubs"/>; tasks/s over the window and the share run across nodes.</summary>
    private static async Task<(double Rate, double CrossNodePercent)> MeasureAsync(EmbeddedHub[] hubs, int agentCount, int submitterCount, int concurrency, int seconds)
    {
        var agents = new List<AicpAgent>();
        var clients = new List<AicpTaskClient>();
        try
        {
            for (var i = 0; i < agentCount; i++)
            {
                var agent = new AicpAgent(new AgentOptions { HubUrl = hubs[i % hubs.Length].BaseUrl.ToString(), AgentId = $"echo-{i}", MaxConcurrency = 1024 });
                agent.Handle(Method, static (task, _) => ValueTask.FromResult(task.Attempt));
                await agent.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
                agents.Add(agent);
            }

            if (hubs.Length > 1)
            {
                await BenchCluster.WaitForViewsAsync(hubs, agentCount, TimeSpan.FromSeconds(30));
            }

            for (var i = 0; i < submitterCount; i++)
            {
                var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hubs[i % hubs.Length].BaseUrl.ToString() });
                await client.ConnectAsync();
                clients.Add(client);
            }

            var measuring = 0;
            long completed = 0;
            long crossNode = 0;
            var stop = Stopwatch.StartNew();
            var end = TimeSpan.FromSeconds(1 + seconds);
            var loops = Enumerable.Range(0, concurrency).Select(k => Task.Run(async () =>
            {
                var client = clients[k % clients.Count];
                while (stop.Elapsed < end)
                {
                    var result = await client.SubmitAsync(Method, null);
                    if (Volatile.Read(ref measuring) == 1 && result.Status == TaskStatuses.Completed)
                    {
                        Interlocked.Increment(ref completed);
                        if (result.Route is [{ Node: not null }, ..])
                        {
                            Interlocked.Increment(ref crossNode);
                        }
                    }
                }
            })).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(1)); // warm-up
            var window = Stopwatch.StartNew();
            Volatile.Write(ref measuring, 1);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            Volatile.Write(ref measuring, 0);
            var elapsed = window.Elapsed.TotalSeconds;
            var done = Interlocked.Read(ref completed);
            await Task.WhenAll(loops);
            return (done / elapsed, done == 0 ? 0 : Interlocked.Read(ref crossNode) * 100.0 / done);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }
}
