using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Protocol;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>chaos --cluster N</c>: the chaos run over N hub processes (the hub's build, <c>dotnet Aicp.Hub.dll</c>, children
/// of the bench) sharing a redis-server on loopback (started here). Agent i starts on node i mod N and is given every
/// node's URL, from its own on; one submitter per node (also given every URL), task k submitted on node k mod N: a task
/// crosses to another node when its own node's agents are busy or killed. Agents are killed and restarted as in the
/// single-hub run, and the last node is killed with SIGKILL when 40% of the tasks were sent (it tells Redis nothing:
/// the others drop it when its entry expires, and the run reports how long that took): its agents move to the next
/// node, its submitter reconnects to the next node, and the tasks that submitter had in flight end with
/// <see cref="AicpConnectionLostException"/> (their fate is unknown to it: counted as orphaned, not lost). Pass: no
/// duplicate, no lost task, every task accounted for (a final status or orphaned), and on every surviving node, read
/// through its HTTP API, every agent's pending count (<c>/v1/agents</c>) and the attempts in flight on its agents and
/// sent to other nodes' (<c>/v1/stats</c> <c>inFlight</c>, <c>remoteInFlight</c>) at 0.
/// </summary>
internal static class ClusterChaos
{
    public sealed record Settings(int Nodes, int Tasks, int Agents, double KillFraction, int Concurrency, Random Random, HubProtocol Protocol, TimeSpan Deadline,
        string? LogDirectory = null);

    public static async Task<int> RunAsync(Settings run, bool json)
    {
        await using var redis = await RedisProcess.StartAsync();
        var hubs = new ChildProcess?[run.Nodes];
        var urls = new string[run.Nodes];
        if (run.LogDirectory is not null)
        {
            Directory.CreateDirectory(run.LogDirectory);
        }

        for (var k = 0; k < run.Nodes; k++)
        {
            urls[k] = $"http://127.0.0.1:{FreePort()}/";
            hubs[k] = ChildProcess.StartProgram("Aicp.Hub.dll",
            [
                "--urls", urls[k].TrimEnd('/'), $"--Logging:LogLevel:Default={(run.LogDirectory is null ? "Warning" : "Information")}",
                "--Aicp:Security:RateLimit:Enabled=false",
                $"--Aicp:Cluster:Redis={redis.Endpoint}", $"--Aicp:Cluster:NodeId={NodeName(k)}",
                "--Aicp:Cluster:HeartbeatInterval=00:00:00.2", $"--Aicp:Cluster:NodeTtl={NodeTtl}",
            ], run.LogDirectory is null ? null : Path.Combine(run.LogDirectory, $"{NodeName(k)}.log"));
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var k = 0; k < run.Nodes; k++)
        {
            await UntilAsync(async () => await AnswersAsync(http, urls[k] + "healthz"), TimeSpan.FromSeconds(60), $"{NodeName(k)} did not answer /healthz");
        }

        string From(int first) => string.Join(",", Enumerable.Range(0, run.Nodes).Select(k => urls[(first + k) % run.Nodes]));
        var agents = new AicpAgent?[run.Agents];
        for (var i = 0; i < run.Agents; i++)
        {
            agents[i] = await ChaosCommand.StartAgentAsync(From(i % run.Nodes), i, run.Protocol);
        }

        // Every node sees every agent before the load starts.
        await UntilAsync(async () =>
        {
            foreach (var url in urls)
            {
                if ((await ViewAsync(http, url)).Values.Sum(a => a.Length) < run.Agents)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30), "not every node saw every agent");

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
        var errorCodes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
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
        Task<double?>? detection = null;
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
                // Killed beside the load, which goes on meanwhile: the node dies with tasks in flight.
                var dying = hubs[victim]!;
                hubs[victim] = null;
                detection = Task.Run(async () =>
                {
                    await dying.DisposeAsync(); // SIGKILL
                    return await DetectionAsync(http, [.. urls.Where((_, k) => k != victim)], NodeName(victim));
                });
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
                    if (result.Status != TaskStatuses.Completed)
                    {
                        errorCodes.AddOrUpdate($"{result.Status}: {result.Error?.Code}", 1, (_, c) => c + 1);
                    }
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
        var detectedMs = detection is null ? null : await detection;
        var elapsed = clock.Elapsed;
        var surviving = urls.Where((_, k) => hubs[k] is not null).ToArray();
        async Task<long> PendingLeftAsync()
        {
            var left = 0L;
            foreach (var url in surviving)
            {
                left += await PendingAsync(http, url);
            }

            return left;
        }

        var pendingLeft = await PendingLeftAsync();
        var settle = Stopwatch.StartNew();
        while (pendingLeft != 0 && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
            pendingLeft = await PendingLeftAsync();
        }

        var report = new Report
        {
            Nodes = run.Nodes,
            Submitted = run.Tasks,
            Completed = statuses.GetValueOrDefault(TaskStatuses.Completed),
            Failed = statuses.GetValueOrDefault(TaskStatuses.Failed),
            Timeout = statuses.GetValueOrDefault(TaskStatuses.Timeout),
            Other = statuses.Where(s => s.Key is not (TaskStatuses.Completed or TaskStatuses.Failed or TaskStatuses.Timeout)).ToDictionary(s => s.Key, s => s.Value),
            NotCompleted = new SortedDictionary<string, int>(errorCodes, StringComparer.Ordinal),
            Orphaned = orphaned.Sum(),
            Duplicates = resultsPerTask.Count(c => c > 1) + orphaned.Zip(resultsPerTask).Count(p => p.First > 0 && p.Second > 0) + mismatched,
            Lost = resultsPerTask.Zip(orphaned).Count(p => p.First == 0 && p.Second == 0),
            CrossNode = crossNode,
            PendingLeft = pendingLeft,
            DetectionMs = detectedMs,
            Kills = kills,
            ClientErrors = clientErrors,
            Seconds = Math.Round(elapsed.TotalSeconds, 2),
        };
        report = report with
        {
            Pass = report.Duplicates == 0 && report.Lost == 0 && report.PendingLeft == 0 && report.ClientErrors == 0
                && report.Submitted == report.Completed + report.Failed + report.Timeout + report.Other.Values.Sum() + report.Orphaned
                && report.DetectionMs is not null,
        };

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine($"chaos: {run.Tasks} tasks over {run.Agents} agents on {run.Nodes} hub processes ({NodeName(victim)} killed with SIGKILL at 40%) in {report.Seconds} s; {kills} agent kills");
            Console.WriteLine($"  completed {report.Completed}, failed {report.Failed}, timeout {report.Timeout}, other {(report.Other.Count == 0 ? "none" : string.Join(", ", report.Other.Select(o => $"{o.Key}={o.Value}")))}");
            foreach (var (code, count) in report.NotCompleted)
            {
                Console.WriteLine($"    {count} x {code}");
            }

            Console.WriteLine($"  orphaned (submitter's node killed) {report.Orphaned}, duplicates {report.Duplicates}, lost {report.Lost}, pending left on the surviving nodes {report.PendingLeft}");
            Console.WriteLine($"  the killed node left the others' views after {(report.DetectionMs is { } ms ? $"{ms:F0} ms" : "(never, within 30 s)")}");
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

        foreach (var hub in hubs.OfType<ChildProcess>())
        {
            await hub.DisposeAsync();
        }

        return report.Pass ? 0 : 1;
    }

    private static readonly TimeSpan NodeTtl = TimeSpan.FromSeconds(1);

    private static string NodeName(int k) => $"node-{k}";

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms; throws with <paramref name="failure"/> when <paramref name="within"/> passes first.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within)
            {
                throw new TimeoutException(failure + $" within {within.TotalSeconds:0} s.");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
    }

    /// <summary>A node's view (<c>GET /v1/cluster</c>): each live node with its agents' ids.</summary>
    private static async Task<Dictionary<string, string[]>> ViewAsync(HttpClient http, string url)
    {
        var view = await http.GetFromJsonAsync<JsonElement>(url + "v1/cluster");
        return view.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!,
            n => n.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray());
    }

    /// <summary>A node's agents' pending counts (<c>/v1/agents</c>) plus its attempts in flight, local and remote (<c>/v1/stats</c>).</summary>
    private static async Task<long> PendingAsync(HttpClient http, string url)
    {
        var agents = await http.GetFromJsonAsync<JsonElement>(url + "v1/agents");
        var stats = await http.GetFromJsonAsync<JsonElement>(url + "v1/stats");
        return agents.EnumerateArray().Sum(a => (long)a.GetProperty("pending").GetInt32())
            + stats.GetProperty("inFlight").GetInt32() + stats.GetProperty("remoteInFlight").GetInt32();
    }

    /// <summary>Milliseconds from now until no node at <paramref name="survivors"/> has <paramref name="dead"/> in its view; null when that takes over 30 s.</summary>
    private static async Task<double?> DetectionAsync(HttpClient http, string[] survivors, string dead)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var seen = false;
            foreach (var url in survivors)
            {
                seen |= (await ViewAsync(http, url)).ContainsKey(dead);
            }

            if (!seen)
            {
                return Math.Round(clock.Elapsed.TotalMilliseconds, 0);
            }

            await Task.Delay(20);
        }

        return null;
    }

    private sealed record Report
    {
        public int Nodes { get; init; }
        public int Submitted { get; init; }
        public int Completed { get; init; }
        public int Failed { get; init; }
        public int Timeout { get; init; }
        public Dictionary<string, int> Other { get; init; } = [];
        /// <summary>The tasks that ended otherwise than completed, per status and error code.</summary>
        public SortedDictionary<string, int> NotCompleted { get; init; } = [];
        public int Orphaned { get; init; }
        public int Duplicates { get; init; }
        public int Lost { get; init; }
        public int CrossNode { get; init; }
        public long PendingLeft { get; init; }
        public double? DetectionMs { get; init; }
        public int Kills { get; init; }
        public int ClientErrors { get; init; }
        public double Seconds { get; init; }
        public bool Pass { get; init; }
    }
}
