using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aicp.Tests.Integration.Cluster;

/// <summary>
/// Three hub processes (the hub's build, run as users run it) on a real redis-server on loopback, with agents and
/// submitters made here with the SDK, each given every node's URL from its own node on: dispatch crosses nodes in every
/// direction and never exceeds an agent's <c>maxConcurrency</c>; a node killed with SIGKILL under load loses and
/// duplicates nothing among the tasks of the surviving nodes' submitters; Redis stopped and started again under load
/// leaves every node serving, and the view rebuilds without restarting a hub.
/// </summary>
[Collection(SoloCollection.Name)] // five processes at once
public sealed class ClusterProcessTests(ITestOutputHelper output)
{
    private const string Method = "image.label";
    private static readonly TimeSpan NodeTtl = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ThreeNodes_EverySubmitterNodeReachesEveryAgentNode_MaxConcurrencyHoldsClusterWide()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = await HubNodes.StartAsync(redis);
        for (var j = 0; j < HubNodes.Count; j++)
        {
            await nodes.StartAgentAsync($"echo-{j + 1}", j, EchoMethod(j), Echo($"echo-{j + 1}"));
        }

        // two slots on node-1's agent and two on node-2's; node-3 has none, so its submitter's tasks all cross
        var peaks = new Peak[2];
        for (var j = 0; j < peaks.Length; j++)
        {
            var peak = peaks[j] = new Peak();
            await nodes.StartAgentAsync($"limited-{j + 1}", j, Method, async (task, ct) =>
            {
                using (peak.Enter())
                {
                    await Task.Delay(20, ct);
                }

                return JsonSerializer.SerializeToElement(new { seq = task.GetPayload<Seq>()!.N });
            }, maxConcurrency: 2);
        }

        await nodes.UntilEveryNodeSeesAsync(5);
        var clients = await nodes.StartClientsAsync();

        // every (submitter node, agent node) pair
        for (var i = 0; i < HubNodes.Count; i++)
        {
            for (var j = 0; j < HubNodes.Count; j++)
            {
                var result = await clients[i].SubmitAsync(EchoMethod(j), new { n = i }).WaitAsync(Within);
                Assert.Equal((TaskStatuses.Completed, $"echo-{j + 1}"), (result.Status, result.AgentId));
                Assert.Equal(i == j ? null : HubNodes.Name(j), result.Route[^1].Node); // set only for another node's agent
            }
        }

        // submitters on all three nodes at once, 4 slots in all: each agent's 2 slots fill, and never more
        var results = await Task.WhenAll(Enumerable.Range(0, 120).Select(n =>
            clients[n % HubNodes.Count].SubmitAsync(Method, new Seq(n), new SubmitOptions { Timeout = Within }))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.Equal(Enumerable.Range(0, 120), results.Select(r => r.Result!.Json.GetProperty("seq").GetInt32()));
        Assert.All(peaks, p => Assert.Equal(2, p.Most)); // reached, not exceeded
        Assert.All(results.Where((_, n) => n % HubNodes.Count == 2), r => Assert.NotNull(r.Route[^1].Node)); // node-3's ran on another node's agent
        await nodes.UntilSettledAsync([0, 1, 2]);
    }

    [Fact]
    public async Task NodeKilledMidRun_SurvivingSubmittersLoseAndDuplicateNothing_ItsAgentsMove()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = await HubNodes.StartAsync(redis);
        var agents = new List<string>();
        for (var k = 0; k < 6; k++)
        {
            var id = $"agent-{k + 1}";
            agents.Add(id);
            await nodes.StartAgentAsync(id, k % HubNodes.Count, Method, SeqAfterAPause);
        }

        await nodes.UntilEveryNodeSeesAsync(agents.Count);
        var clients = await nodes.StartClientsAsync();
        const int victim = 2;
        await using var load = Load.Start(clients);
        await load.UntilCompletedAsync(300, nodes.Outputs);

        await nodes.KillAsync(victim); // SIGKILL: no goodbye to Redis
        var killed = Stopwatch.StartNew();
        TimeSpan detected = default;
        await TestTimeouts.EventuallyAsync(async () =>
        {
            var gone = true;
            foreach (var k in new[] { 0, 1 })
            {
                gone &= !(await nodes.ViewAsync(k)).ContainsKey(HubNodes.Name(victim));
            }

            detected = killed.Elapsed;
            return gone;
        }, "the killed node gone from the survivors' views", Within, nodes.Outputs);
        Assert.True(detected < NodeTtl + TimeSpan.FromSeconds(4), $"the killed node left the view after {detected}");

        // its agents registered on the survivors, and the survivors' submitters kept being served
        await TestTimeouts.EventuallyAsync(async () => (await nodes.AgentsAsync(0)).Concat(await nodes.AgentsAsync(1)).Select(a => a.Id).Order(StringComparer.Ordinal)
            .SequenceEqual(agents), "every agent registered on node-1 or node-2", Within, nodes.Outputs);
        var before = (load.CompletedBy(0), load.CompletedBy(1));
        await TestTimeouts.Eventually(() => load.CompletedBy(0) > before.Item1 + 100 && load.CompletedBy(1) > before.Item2 + 100, "more tasks completed on both survivors", Within);
        var records = await load.StopAsync();

        foreach (var r in records.Where(r => r.Submitter != victim))
        {
            Assert.True(r.Error is null, $"task {r.Seq} of submitter {r.Submitter}: {r.Error}");
            Assert.Equal(1, r.Results);
            Assert.Equal((TaskStatuses.Completed, r.Seq), (r.Result!.Status, r.Result.Result!.Json.GetProperty("seq").GetInt32()));
        }

        var victims = records.Where(r => r.Submitter == victim).ToArray();
        Assert.All(victims, r => Assert.True(r.Error is AicpConnectionLostException || (r.Result?.Status == TaskStatuses.Completed && r.Results == 1
            && r.Result.Result!.Json.GetProperty("seq").GetInt32() == r.Seq), $"task {r.Seq} of the killed node's submitter: {r.Result?.Status} {r.Error}"));
        Assert.Contains(victims, r => r.Error is AicpConnectionLostException); // it had tasks in flight when its node died
        output.WriteLine($"{records.Length} tasks; the killed node left the view after {detected.TotalMilliseconds:F0} ms; " +
            $"{victims.Count(r => r.Error is not null)} of its submitter's tasks ended with the connection lost");
        await nodes.UntilSettledAsync([0, 1]);
    }

    [Fact]
    public async Task RedisStoppedAndRestartedMidRun_EveryNodeKeepsServing_ViewRebuildsWithoutRestart()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = await HubNodes.StartAsync(redis);
        for (var k = 0; k < 6; k++)
        {
            await nodes.StartAgentAsync($"agent-{k + 1}", k % HubNodes.Count, Method, SeqAfterAPause);
        }

        await nodes.UntilEveryNodeSeesAsync(6);
        await using var load = Load.Start(await nodes.StartClientsAsync());
        await load.UntilCompletedAsync(300, nodes.Outputs);

        await redis.StopAsync();

        await TestTimeouts.EventuallyAsync(async () => (await Task.WhenAll(Enumerable.Range(0, HubNodes.Count).Select(nodes.ClusterCheckAsync)))
            .All(s => s == "Degraded"), "every node's /readyz cluster check Degraded", Within, nodes.Outputs);
        var down = Enumerable.Range(0, HubNodes.Count).Select(load.CompletedBy).ToArray();
        await TestTimeouts.Eventually(() => Enumerable.Range(0, HubNodes.Count).All(k => load.CompletedBy(k) > down[k] + 100),
            "tasks completing on every node while Redis is down", Within);
        for (var k = 0; k < HubNodes.Count; k++)
        {
            Assert.Equal([HubNodes.Name(k)], (await nodes.ViewAsync(k)).Keys); // each node alone
        }

        await redis.StartAgainAsync(); // same port, empty: every node publishes itself again

        await TestTimeouts.EventuallyAsync(async () =>
        {
            var healthy = true;
            for (var k = 0; k < HubNodes.Count; k++)
            {
                var view = await nodes.ViewAsync(k);
                healthy &= view.Count == HubNodes.Count && view.Values.Sum(a => a.Length) == 6 && await nodes.ClusterCheckAsync(k) == "Healthy";
            }

            return healthy;
        }, "every node's view has the three nodes and their agents again", Within, nodes.Outputs);
        var up = Enumerable.Range(0, HubNodes.Count).Select(load.CompletedBy).ToArray();
        await TestTimeouts.Eventually(() => Enumerable.Range(0, HubNodes.Count).All(k => load.CompletedBy(k) > up[k] + 100), "tasks completing after Redis returned", Within);
        var records = await load.StopAsync();

        Assert.All(records, r =>
        {
            Assert.True(r.Error is null, $"task {r.Seq} of submitter {r.Submitter}: {r.Error}");
            Assert.Equal(1, r.Results);
            Assert.Equal((TaskStatuses.Completed, r.Seq), (r.Result!.Status, r.Result.Result!.Json.GetProperty("seq").GetInt32()));
        });
        output.WriteLine($"{records.Length} tasks, all completed");
        await nodes.UntilSettledAsync([0, 1, 2]);
    }

    private static string EchoMethod(int node) => $"echo.node-{node + 1}";

    private static Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> Echo(string id) =>
        (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { agent = id }));

    /// <summary>Answers <c>{"seq": n}</c> for the task <c>{"n": n}</c> after 2-10 ms.</summary>
    private static async ValueTask<JsonElement> SeqAfterAPause(AgentTaskContext task, CancellationToken ct)
    {
        await Task.Delay(Random.Shared.Next(2, 10), ct);
        return JsonSerializer.SerializeToElement(new { seq = task.GetPayload<Seq>()!.N });
    }

    private sealed record Seq(int N);

    /// <summary>An agent's own count of the executions it runs at once, and the most it has seen.</summary>
    private sealed class Peak
    {
        private int _now;
        private int _most;

        public int Most => Volatile.Read(ref _most);

        public IDisposable Enter()
        {
            var now = Interlocked.Increment(ref _now);
            int seen;
            while ((seen = Volatile.Read(ref _most)) < now && Interlocked.CompareExchange(ref _most, now, seen) != seen)
            {
            }

            return new Exit(this);
        }

        private sealed class Exit(Peak peak) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref peak._now);
        }
    }

    /// <summary>
    /// Three hub processes on <c>127.0.0.1</c>, <c>node-1</c> to <c>node-3</c>, on one Redis, with heartbeats every
    /// 200 ms and a 1 s node TTL; plus the agents and clients started on them. Disposing kills them all.
    /// </summary>
    private sealed class HubNodes : IAsyncDisposable
    {
        public const int Count = 3;
        private readonly ProgramProcess?[] _processes;
        private readonly HttpClient[] _http;
        private readonly List<IAsyncDisposable> _owned = [];

        private HubNodes(ProgramProcess?[] processes, int[] ports)
        {
            _processes = processes;
            Urls = [.. ports.Select(p => $"http://127.0.0.1:{p}")];
            _http = [.. Urls.Select(u => new HttpClient { BaseAddress = new Uri(u), Timeout = TestTimeouts.Default })];
        }

        public string[] Urls { get; }

        public static string Name(int k) => $"node-{k + 1}";

        public static async Task<HubNodes> StartAsync(RedisServer redis)
        {
            var ports = Enumerable.Range(0, Count).Select(_ => LoopbackPort.Free()).ToArray();
            var processes = ports.Select((port, k) => ProgramProcess.Start(ProgramProcess.Hub,
            [
                "--urls", $"http://127.0.0.1:{port}", $"--Aicp:Cluster:Redis={redis.Endpoint}", $"--Aicp:Cluster:NodeId={Name(k)}",
                "--Aicp:Cluster:HeartbeatInterval=00:00:00.2", $"--Aicp:Cluster:NodeTtl={NodeTtl}", "--Aicp:Security:RateLimit:Enabled=false",
            ])).ToArray();
            var nodes = new HubNodes(processes, ports);
            try
            {
                for (var k = 0; k < Count; k++)
                {
                    await processes[k].WaitForOutputAsync($"Now listening on: {nodes.Urls[k]}", TimeSpan.FromSeconds(60));
                }

                await TestTimeouts.EventuallyAsync(async () => (await Task.WhenAll(Enumerable.Range(0, Count).Select(nodes.ViewAsync))).All(v => v.Count == Count),
                    "every node sees the three", Within, nodes.Outputs);
                return nodes;
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        }

        /// <summary>Every node's URL, from node <paramref name="first"/>'s on.</summary>
        public string From(int first) => string.Join(",", Enumerable.Range(0, Count).Select(k => Urls[(first + k) % Count]));

        public async Task StartAgentAsync(string id, int node, string method, Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> handler, int maxConcurrency = 8)
        {
            var agent = new AicpAgent(new AgentOptions
            {
                HubUrl = From(node), AgentId = id, MaxConcurrency = maxConcurrency, LoadReportInterval = TimeSpan.Zero,
                ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            });
            agent.Handle(method, handler);
            _owned.Add(agent);
            await agent.StartAsync().WaitAsync(Within);
        }

        /// <summary>A submitter per node, each given every node's URL from its own on.</summary>
        public async Task<AicpTaskClient[]> StartClientsAsync()
        {
            var clients = new AicpTaskClient[Count];
            for (var k = 0; k < Count; k++)
            {
                clients[k] = new AicpTaskClient(new AicpConnectionOptions
                {
                    HubUrl = From(k), ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
                });
                _owned.Add(clients[k]);
                await clients[k].ConnectAsync().WaitAsync(Within);
            }

            return clients;
        }

        /// <summary>Kills node <paramref name="k"/> with SIGKILL.</summary>
        public async Task KillAsync(int k)
        {
            var process = _processes[k]!;
            _processes[k] = null;
            await process.DisposeAsync();
        }

        /// <summary>Node <paramref name="k"/>'s view (<c>GET /v1/cluster</c>): each live node with its agents' ids.</summary>
        public async Task<Dictionary<string, string[]>> ViewAsync(int k)
        {
            var view = await _http[k].GetFromJsonAsync<JsonElement>("/v1/cluster").WaitAsync(TestTimeouts.Default);
            return view.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!,
                n => n.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray());
        }

        /// <summary>Node <paramref name="k"/>'s own agents (<c>GET /v1/agents</c>) with their pending counts.</summary>
        public async Task<(string Id, int Pending)[]> AgentsAsync(int k) =>
            [.. (await _http[k].GetFromJsonAsync<JsonElement>("/v1/agents").WaitAsync(TestTimeouts.Default)).EnumerateArray()
                .Select(a => (a.GetProperty("id").GetString()!, a.GetProperty("pending").GetInt32()))];

        /// <summary>The status of node <paramref name="k"/>'s <c>cluster</c> check in <c>/readyz</c>.</summary>
        public async Task<string> ClusterCheckAsync(int k)
        {
            using var response = await _http[k].GetAsync("/readyz").WaitAsync(TestTimeouts.Default);
            var health = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(TestTimeouts.Default);
            return health.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString()!;
        }

        /// <summary>Nodes <paramref name="ks"/> have every agent's pending count at 0 and no attempt in flight (<c>/v1/agents</c>, <c>/v1/stats</c>).</summary>
        public Task UntilSettledAsync(int[] ks)
        {
            var last = "";
            return TestTimeouts.EventuallyAsync(async () =>
            {
                var left = 0L;
                var seen = new List<string>();
                foreach (var k in ks)
                {
                    var pending = (await AgentsAsync(k)).Sum(a => a.Pending);
                    var stats = await _http[k].GetFromJsonAsync<JsonElement>("/v1/stats").WaitAsync(TestTimeouts.Default);
                    var (inFlight, remote) = (stats.GetProperty("inFlight").GetInt32(), stats.GetProperty("remoteInFlight").GetInt32());
                    left += pending + inFlight + remote;
                    seen.Add($"{Name(k)}: pending {pending}, inFlight {inFlight}, remoteInFlight {remote}");
                }

                last = string.Join("; ", seen);
                return left == 0;
            }, "no pending count or attempt in flight left", Within, () => last);
        }

        /// <summary>Every node's view holds <paramref name="agents"/> agents.</summary>
        public Task UntilEveryNodeSeesAsync(int agents) => TestTimeouts.EventuallyAsync(async () =>
            (await Task.WhenAll(Enumerable.Range(0, Count).Select(ViewAsync))).All(v => v.Values.Sum(a => a.Length) == agents),
            $"every node sees the {agents} agents", Within, Outputs);

        public string Outputs() => string.Join("\n", _processes.Select((p, k) => $"{Name(k)}: {(p is null ? "(killed)" : Tail(p.Output))}"));

        private static string Tail(string output) => output.Length <= 4000 ? output : output[^4000..];

        public async ValueTask DisposeAsync()
        {
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync().AsTask().WaitAsync(Within);
            }

            foreach (var process in _processes.OfType<ProgramProcess>())
            {
                await process.DisposeAsync();
            }

            foreach (var http in _http)
            {
                http.Dispose();
            }
        }
    }

    /// <summary>One task's fate: its submitter, how many results came back, the last one, or the error its submit threw.</summary>
    private sealed class TaskRecord(int seq, int submitter)
    {
        public int Seq => seq;

        public int Submitter => submitter;

        public int Results;

        public TaskResult? Result;

        public Exception? Error;
    }

    /// <summary>
    /// Tasks submitted without pause through every client (up to 16 in flight on each) until stopped, each numbered
    /// (its payload <c>{"n": seq}</c>) and its fate recorded.
    /// </summary>
    private sealed class Load : IAsyncDisposable
    {
        private const int Window = 16;
        private readonly ConcurrentDictionary<int, TaskRecord> _records = new();
        private readonly int[] _completed;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _submitters;
        private int _next = -1;

        private Load(AicpTaskClient[] clients)
        {
            _completed = new int[clients.Length];
            _submitters = [.. clients.Select((client, k) => Task.Run(() => SubmitUntilStoppedAsync(client, k)))];
        }

        public static Load Start(AicpTaskClient[] clients) => new(clients);

        public int CompletedBy(int submitter) => Volatile.Read(ref _completed[submitter]);

        public Task UntilCompletedAsync(int count, Func<string> outputs) => TestTimeouts.EventuallyAsync(
            () => Task.FromResult(_completed.Sum() >= count), $"{count} tasks completed", Within, outputs);

        /// <summary>Stops sending and waits (bounded) for every task sent to end; returns every task's record.</summary>
        public async Task<TaskRecord[]> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_submitters).WaitAsync(Within);
            return [.. _records.Values.OrderBy(r => r.Seq)];
        }

        private async Task SubmitUntilStoppedAsync(AicpTaskClient client, int k)
        {
            using var window = new SemaphoreSlim(Window);
            var sent = new List<Task>();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await window.WaitAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                var record = new TaskRecord(Interlocked.Increment(ref _next), k);
                _records[record.Seq] = record;
                sent.Add(Task.Run(async () =>
                {
                    try
                    {
                        record.Result = await client.SubmitAsync(Method, new Seq(record.Seq), new SubmitOptions { MaxAttempts = 5, Timeout = TimeSpan.FromSeconds(10) })
                            .WaitAsync(Within);
                        Interlocked.Increment(ref record.Results);
                        if (record.Result.Status == TaskStatuses.Completed)
                        {
                            Interlocked.Increment(ref _completed[k]);
                        }
                    }
                    catch (Exception ex)
                    {
                        record.Error = ex;
                    }
                    finally
                    {
                        window.Release();
                    }
                }));
            }

            await Task.WhenAll(sent);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
            }

            try
            {
                await Task.WhenAll(_submitters).WaitAsync(Within);
            }
            catch (TimeoutException)
            {
                // the test has failed already; the clients' disposal ends what is left
            }

            _stop.Dispose();
        }
    }
}
