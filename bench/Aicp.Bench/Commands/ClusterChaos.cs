using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Cluster;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hosting;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>chaos --cluster N</c>: the chaos run over N hub nodes sharing a redis-server on loopback (started here). Agent i
/// starts on node i mod N and is given every node's URL, from its own on; one submitter per node (also given every
/// URL), task k submitted on node k mod N: a task crosses to another node when its own node's agents are busy or
/// killed. Agents are killed and restarted as in the single-hub run, and the last node is stopped when 40% of the
/// tasks were sent: its agents move to the next node, its submitter reconnects to the next node, and the tasks that
/// submitter had in flight end with <see cref="AicpConnectionLostException"/> (their fate is unknown to it: counted as
/// orphaned, not lost). Pass: no duplicate, no lost task, every task accounted for (a final status or orphaned), every
/// surviving node's pending counts and attempts in flight at 0.
/// </summary>
internal static class ClusterChaos
{
    public sealed record Settings(int Nodes, int Tasks, int Agents, double KillFraction, int Concurrency, Random Random, HubProtocol Protocol, TimeSpan Deadline);

    public static async Task<int> RunAsync(Settings run, bool json)
    {
        await using var redis = await RedisProcess.StartAsync();
        var hubs = new EmbeddedHub?[run.Nodes];
        for (var k = 0; k < run.Nodes; k++)
        {
            hubs[k] = await EmbeddedHub.StartAsync(new Dictionary<string, string?>
            {
                ["Aicp:Security:RateLimit:Enabled"] = "false",
                ["Aicp:Cluster:Redis"] = redis.Endpoint, ["Aicp:Cluster:NodeId"] = $"node-{k}",
                ["Aicp:Cluster:HeartbeatInterval"] = "00:00:00.2", ["Aicp:Cluster:NodeTtl"] = "00:00:01",
            }, b => b.Logging.ClearProviders());
        }

        var urls = hubs.Select(h => h!.BaseUrl.ToString()).ToArray();
        string From(int first) => string.Join(",", Enumerable.Range(0, run.Nodes).Select(k => urls[(first + k) % run.Nodes]));
        var agents = new AicpAgent?[run.Agents];
        for (var i = 0; i < run.Agents; i++)
        {
            agents[i] = await ChaosCommand.StartAgentAsync(From(i % run.Nodes), i, run.Protocol);
        }

        // Every node sees every agent before the load starts.
        var ready = Stopwatch.StartNew();
        while (hubs.Any(h => Membership(h!).View.Nodes.Sum(n => n.Agents.Count) < run.Agents) && ready.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        var clients = new AicpTaskClient[run.Nodes];
        for (var k = 0; k < run.Nodes; k++)
        {
            clients[k] = new AicpTaskClient(new AicpConnectionOptions
            {
                HubUrl = From(k), Protocol = run.Protocol, ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            });
            await clients[k].ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        var resultsPerTask = new int[run.Tasks];
        var orphaned = new int[run.Tasks];
        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var mismatched = 0;
        var errorTypes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var clientErrors = 0;
        var crossNode = 0;
        var kills = 0;
        var victim = run.Nodes - 1;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(run.Deadline);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);

        var chaos = Task.Run(async () =>
        {
            var perRound = Math.Max(1, (int)Math.Round(run.Agents * run.KillFraction));
            while (!running.IsCancellationRequested)
            {
                await Task.Delay(run.Random.Next(100, 400), CancellationToken.None);
                var victims = Enumerable.Range(0, run.Agents).OrderBy(_ => run.Random.Next()).Take(perRound).ToArray();
                await Task.WhenAll(victims.Select(async i =>
                {
                    var agent = agents[i]!;
                    await agent.AbortAsync();
                    await agent.DisposeAsync();
                    Interlocked.Increment(ref kills);
                    await Task.Delay(Random.Shared.Next(20, 200), CancellationToken.None);
                    agents[i] = await ChaosCommand.StartAgentAsync(From(i % run.Nodes), i, run.Protocol);
                }));
            }
        });

        using var window = new SemaphoreSlim(run.Concurrency);
        var submits = new List<Task>(run.Tasks);
        Task? nodeStopped = null;
        for (var n = 0; n < run.Tasks && !stop.IsCancellationRequested; n++)
        {
            try
            {
                await window.WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (n == run.Tasks * 2 / 5)
            {
                var stopping = hubs[victim]!;
                hubs[victim] = null;
                nodeStopped = Task.Run(async () => await stopping.DisposeAsync());
            }

            var seq = n;
            var client = clients[seq % run.Nodes];
            submits.Add(Task.Run(async () =>
            {
                try
                {
                    var result = await client.SubmitAsync(ChaosCommand.Method, new { seq }, new SubmitOptions { MaxAttempts = 5, Timeout = TimeSpan.FromSeconds(5) }, stop.Token);
                    Interlocked.Increment(ref resultsPerTask[seq]);
                    statuses.AddOrUpdate(result.Status, 1, (_, c) => c + 1);
                    if (result.Route.Any(e => e.Node is not null))
                    {
                        Interlocked.Increment(ref crossNode);
                    }

                    if (result.Status == TaskStatuses.Completed && result.Result?.Json.GetProperty("seq").GetInt32() != seq)
                    {
                        Interlocked.Increment(ref mismatched);
                    }
                }
                catch (AicpConnectionLostException)
                {
                    Interlocked.Increment(ref orphaned[seq]); // the submitter's node died with the task in flight
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref clientErrors);
                    errorTypes.AddOrUpdate(ex.GetType().Name + ": " + ex.Message, 1, (_, c) => c + 1);
                }
                finally
                {
                    window.Release();
                }
            }));
        }

        await Task.WhenAll(submits);
        running.Cancel();
        await chaos;
        if (nodeStopped is not null)
        {
            await nodeStopped;
        }

        var elapsed = clock.Elapsed;
        var surviving = hubs.OfType<EmbeddedHub>().ToArray();
        long PendingLeft() => surviving.Sum(h => h.Services.GetRequiredService<AgentRegistry>().Agents.Sum(a => (long)a.Pending)
            + h.Services.GetRequiredService<TaskDispatcher>().InFlightCount + h.Services.GetRequiredService<RemoteAgents>().InFlight
            + h.Services.GetRequiredService<PeerExecutor>().Running);
        var settle = Stopwatch.StartNew();
        while (PendingLeft() != 0 && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        var report = new Report
        {
            Nodes = run.Nodes,
            Submitted = run.Tasks,
            Completed = statuses.GetValueOrDefault(TaskStatuses.Completed),
            Failed = statuses.GetValueOrDefault(TaskStatuses.Failed),
            Timeout = statuses.GetValueOrDefault(TaskStatuses.Timeout),
            Other = statuses.Where(s => s.Key is not (TaskStatuses.Completed or TaskStatuses.Failed or TaskStatuses.Timeout)).ToDictionary(s => s.Key, s => s.Value),
            Orphaned = orphaned.Sum(),
            Duplicates = resultsPerTask.Count(c => c > 1) + orphaned.Zip(resultsPerTask).Count(p => p.First > 0 && p.Second > 0) + mismatched,
            Lost = resultsPerTask.Zip(orphaned).Count(p => p.First == 0 && p.Second == 0),
            CrossNode = crossNode,
            PendingLeft = PendingLeft(),
            Kills = kills,
            ClientErrors = clientErrors,
            Seconds = Math.Round(elapsed.TotalSeconds, 2),
        };
        report = report with
        {
            Pass = report.Duplicates == 0 && report.Lost == 0 && report.PendingLeft == 0 && report.ClientErrors == 0
                && report.Submitted == report.Completed + report.Failed + report.Timeout + report.Other.Values.Sum() + report.Orphaned,
        };

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine($"chaos: {run.Tasks} tasks over {run.Agents} agents on {run.Nodes} nodes (node-{victim} stopped at 40%) in {report.Seconds} s; {kills} agent kills");
            Console.WriteLine($"  completed {report.Completed}, failed {report.Failed}, timeout {report.Timeout}, other {(report.Other.Count == 0 ? "none" : string.Join(", ", report.Other.Select(o => $"{o.Key}={o.Value}")))}");
            Console.WriteLine($"  orphaned (submitter's node stopped) {report.Orphaned}, duplicates {report.Duplicates}, lost {report.Lost}, pending left {report.PendingLeft}");
            Console.WriteLine($"  tasks that ran on another node's agent {report.CrossNode}, client errors {report.ClientErrors}");
            foreach (var (error, count) in errorTypes)
            {
                Console.WriteLine($"    {count} x {error}");
            }
            Console.WriteLine(report.Pass ? "PASS" : "FAIL");
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        foreach (var agent in agents)
        {
            await agent!.DisposeAsync();
        }

        foreach (var hub in surviving)
        {
            await hub.DisposeAsync();
        }

        return report.Pass ? 0 : 1;
    }

    private static ClusterMembership Membership(EmbeddedHub hub) => hub.Services.GetRequiredService<ClusterMembership>();

    private sealed record Report
    {
        public int Nodes { get; init; }
        public int Submitted { get; init; }
        public int Completed { get; init; }
        public int Failed { get; init; }
        public int Timeout { get; init; }
        public Dictionary<string, int> Other { get; init; } = [];
        public int Orphaned { get; init; }
        public int Duplicates { get; init; }
        public int Lost { get; init; }
        public int CrossNode { get; init; }
        public long PendingLeft { get; init; }
        public int Kills { get; init; }
        public int ClientErrors { get; init; }
        public double Seconds { get; init; }
        public bool Pass { get; init; }
    }
}
