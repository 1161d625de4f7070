using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Cluster;
using Aicp.Hub.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>cluster-cost</c>: what dispatch across nodes adds to a task. Two hub nodes on a loopback redis-server, one agent
/// (an immediate echo) on node-0, one submitter on each node. Tasks run one at a time, alternating: through node-0 to
/// its own agent (local), and through node-1 to node-0's agent (cross-node: execute and answer over Redis). Reports
/// each path's latency percentiles per run, and the medians over the runs of each p50 and of the difference.
/// </summary>
internal static class ClusterCostCommand
{
    public const string Name = "cluster-cost";
    private static readonly Option<int> Tasks = BenchOptions.Int("--tasks", "Tasks per path in each run", 2_000, max: 1_000_000);
    private static readonly Option<int> Runs = BenchOptions.Int("--runs", "Measured runs", 3, max: 100);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "Latency a task pays to run on another hub node's agent, against the same agent through its own node, in one run.")
        {
            Tasks, Runs, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var tasks = parse.GetValue(Tasks);
        var runs = parse.GetValue(Runs);
        await using var redis = await RedisProcess.StartAsync();
        await using var owner = await Node(redis, 0);
        await using var asker = await Node(redis, 1);
        await using var agent = new AicpAgent(new AgentOptions { HubUrl = owner.BaseUrl.ToString(), AgentId = "echo-0", MaxConcurrency = 4 });
        agent.Handle("bench.echo", (task, _) => ValueTask.FromResult(task.Attempt));
        await agent.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var seen = Stopwatch.StartNew();
        while (!asker.Services.GetRequiredService<ClusterMembership>().View.Nodes.Any(n => n.Agents.Any(a => a.Id == "echo-0")) && seen.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }

        await using var local = new AicpTaskClient(new AicpConnectionOptions { HubUrl = owner.BaseUrl.ToString() });
        await using var remote = new AicpTaskClient(new AicpConnectionOptions { HubUrl = asker.BaseUrl.ToString() });
        await local.ConnectAsync();
        await remote.ConnectAsync();
        await MeasureAsync(local, remote, 200); // warm-up

        var results = new List<(LatencySummary Local, LatencySummary Cross)>();
        for (var run = 0; run < runs; run++)
        {
            results.Add(await MeasureAsync(local, remote, tasks));
        }

        var localP50 = LatencySummary.Median(results.Select(r => r.Local.P50Ms));
        var crossP50 = LatencySummary.Median(results.Select(r => r.Cross.P50Ms));
        var added = LatencySummary.Median(results.Select(r => r.Cross.P50Ms - r.Local.P50Ms));
        if (parse.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                machine = Machine.Describe(), tasks, runs,
                perRun = results.Select(r => new { local = r.Local, crossNode = r.Cross }),
                localP50Ms = localP50, crossNodeP50Ms = crossP50, addedP50Ms = added,
            }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine($"cluster-cost: {tasks} tasks per path, {runs} runs, one at a time; {Machine.Describe()}");
            foreach (var (r, i) in results.Select((r, i) => (r, i)))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  run {i + 1}: local p50 {r.Local.P50Ms:F3} p99 {r.Local.P99Ms:F3} ms; cross-node p50 {r.Cross.P50Ms:F3} p99 {r.Cross.P99Ms:F3} ms"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  medians: local p50 {localP50:F3} ms, cross-node p50 {crossP50:F3} ms, added {added:F3} ms"));
        }

        return 0;
    }

    private static Task<EmbeddedHub> Node(RedisProcess redis, int k) =>
        BenchCluster.StartNodeAsync(redis, k, new Dictionary<string, string?> { ["Aicp:Cluster:HeartbeatInterval"] = "00:00:00.2" });

    private static async Task<(LatencySummary Local, LatencySummary Cross)> MeasureAsync(AicpTaskClient local, AicpTaskClient remote, int tasks)
    {
        var localMs = new List<double>(tasks);
        var crossMs = new List<double>(tasks);
        for (var i = 0; i < tasks; i++)
        {
            localMs.Add(await TimeAsync(local));
            crossMs.Add(await TimeAsync(remote));
        }

        return (LatencySummary.Of(localMs), LatencySummary.Of(crossMs));
    }

    private static async Task<double> TimeAsync(AicpTaskClient client)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await client.SubmitAsync("bench.echo", null);
        if (result.Status != Aicp.Protocol.TaskStatuses.Completed)
        {
            throw new InvalidOperationException($"A benchmark task ended {result.Status} ({result.Error?.Code}).");
        }

        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
