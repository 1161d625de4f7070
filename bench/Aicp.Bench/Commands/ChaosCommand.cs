using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hosting;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>chaos [--tasks N] [--agents N] [--kill-fraction F] [--seed N] [--json] [--hedging]</c>: runs N tasks through an
/// embedded hub while agents are killed (socket dropped, no goodbye) and restarted at random, then checks
/// that every task got exactly one final result and every pending count went back to zero.
/// Exit code 0 when duplicates = 0, lost = 0, pending left = 0 and submitted = sum of final statuses; else 1.
/// </summary>
internal static class ChaosCommand
{
    public const string Name = "chaos";
    internal const string Method = "chaos.echo";
    private static readonly Option<int> Tasks = BenchOptions.Int("--tasks", "Tasks to run", 20_000, max: 10_000_000);
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Agents, killed and restarted at random", 10, max: 1_000);
    private static readonly Option<double?> KillFraction = BenchOptions.Double("--kill-fraction", "Share of the agents killed at once in each round", 0.3, 0, 1);
    private static readonly Option<int> Concurrency = BenchOptions.Int("--concurrency", "Tasks in flight at once", 256, max: 100_000);
    private static readonly Option<int> Seed = BenchOptions.Seed("Seed of the kill schedule", 42);
    private static readonly Option<bool> Json = BenchOptions.Json();
    private static readonly Option<HubProtocol> Protocol = BenchOptions.Protocol("Hub protocol of the agents and the submitter");
    private static readonly Option<int> MaxSeconds = BenchOptions.Int("--max-seconds", "Bound on the whole run; tasks not sent by then count as lost", 300, max: 86_400);
    private static readonly Option<string> Door = new("--door")
    {
        Description = "The front door the submitter uses: signalr (Submit), stream (SubmitStream) or http (POST /v1/tasks)",
        DefaultValueFactory = _ => "signalr",
    };

    private static readonly Option<int> Cluster = BenchOptions.Int("--cluster",
        "Hub nodes on a loopback redis-server (0: one embedded hub); agents and submitters spread over them, and one node stopped mid-run", 0, min: 0, max: 16);

    private static readonly Option<string?> Logs = new("--logs")
    {
        Description = "With --cluster: a directory for each node's log (node-K.log, Information and above, timestamped lines)",
        HelpName = "DIR",
    };

    private static readonly Option<bool> Hedging = BenchOptions.Flag("--hedging",
        "Treat the capability as idempotent and hedge every attempt not answered within 1 ms (budget: one hedge per task)");

    public static Command Create()
    {
        var command = new Command(Name, "Tasks through an embedded hub while agents are killed and restarted; checks exactly one final result per task. " +
                                        "Exit code 0 when nothing is lost or duplicated and every pending count is back to zero.")
        {
            Tasks, Agents, KillFraction, Concurrency, Seed, Json, Protocol, MaxSeconds, Hedging, Door, Cluster, Logs,
        };
        Door.AcceptOnlyFromAmong("signalr", "stream", "http");
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var tasks = parse.GetValue(Tasks);
        var agentCount = parse.GetValue(Agents);
        var killFraction = parse.GetValue(KillFraction)!.Value;
        var concurrency = parse.GetValue(Concurrency);
        var random = new Random(parse.GetValue(Seed));
        var json = parse.GetValue(Json);
        var protocol = parse.GetValue(Protocol); // agents and submitter alike
        var deadline = TimeSpan.FromSeconds(parse.GetValue(MaxSeconds)); // the whole run is bounded in time
        if (parse.GetValue(Cluster) is var nodes and >= 2)
        {
            return await ClusterChaos.RunAsync(new ClusterChaos.Settings(nodes, tasks, agentCount, killFraction, concurrency, random, protocol, deadline,
                parse.GetValue(Logs)), json);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Aicp:Security:RateLimit:Enabled"] = "false", // one submitter drives the whole load on purpose
        };
        if (parse.GetValue(Hedging))
        {
            // Hedges racing kills and answers on both sides: still exactly one result per task.
            settings["Aicp:Hedging:Capabilities:0"] = Method;
            settings["Aicp:Hedging:Delay"] = "00:00:00.001";
            settings["Aicp:Hedging:BudgetRatio"] = "1";
        }

        await using var hub = await EmbeddedHub.StartAsync(settings, b => b.Logging.ClearProviders());
        var registry = hub.Services.GetRequiredService<AgentRegistry>();
        var dispatcher = hub.Services.GetRequiredService<TaskDispatcher>();
        var counters = hub.Services.GetRequiredService<HubCounters>();

        var agents = new AicpAgent?[agentCount];
        for (var i = 0; i < agentCount; i++)
        {
            agents[i] = await StartAgentAsync(hub.BaseUrl, i, protocol);
        }

        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hub.BaseUrl.ToString(), Protocol = protocol });
        await client.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = hub.BaseUrl, Timeout = deadline };
        var door = parse.GetValue(Door)!;
        var options = new SubmitOptions { MaxAttempts = 5, Timeout = TimeSpan.FromSeconds(5) };
        async Task<(string Status, int? Seq)> SubmitAsync(int seq, CancellationToken cancellationToken)
        {
            TaskResult result;
            switch (door)
            {
                case "http":
                    using (var response = await http.PostAsJsonAsync("/v1/tasks", new { method = Method, payload = new { seq }, maxAttempts = 5, timeoutMs = 5000 }, cancellationToken))
                    {
                        result = (await response.Content.ReadFromJsonAsync<TaskResult>(cancellationToken))!;
                    }

                    break;
                case "stream":
                    result = await client.SubmitStream<JsonElement>(Method, new { seq }, options).ReadToEndAsync(cancellationToken);
                    break;
                default:
                    result = await client.SubmitAsync(Method, new { seq }, options, cancellationToken);
                    break;
            }

            return (result.Status, result.Status == TaskStatuses.Completed ? result.Result?.Json.GetProperty("seq").GetInt32() : null);
        }

        var resultsPerTask = new int[tasks];
        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var mismatched = 0;
        var clientErrors = 0;
        var kills = 0;
        var killedAgents = new HashSet<int>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(deadline);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);

        // Chaos: every round kills a random kill-fraction of the agents at once and restarts each after a random pause.
        var chaos = Task.Run(async () =>
        {
            var perRound = Math.Max(1, (int)Math.Round(agentCount * killFraction));
            while (!running.IsCancellationRequested)
            {
                await Task.Delay(random.Next(100, 400), CancellationToken.None);
                var victims = Enumerable.Range(0, agentCount).OrderBy(_ => random.Next()).Take(perRound).ToArray();
                await Task.WhenAll(victims.Select(async i =>
                {
                    var victim = agents[i]!;
                    await victim.AbortAsync();
                    await victim.DisposeAsync();
                    Interlocked.Increment(ref kills);
                    lock (killedAgents)
                    {
                        killedAgents.Add(i);
                    }

                    await Task.Delay(Random.Shared.Next(20, 200), CancellationToken.None);
                    agents[i] = await StartAgentAsync(hub.BaseUrl, i, protocol);
                }));
            }
        });

        using var window = new SemaphoreSlim(concurrency);
        var submits = new List<Task>(tasks);
        for (var n = 0; n < tasks && !stop.IsCancellationRequested; n++)
        {
            try
            {
                await window.WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break; // out of time: the tasks never sent count as lost
            }

            var seq = n;
            submits.Add(Task.Run(async () =>
            {
                try
                {
                    var (status, answered) = await SubmitAsync(seq, stop.Token);
                    Interlocked.Increment(ref resultsPerTask[seq]);
                    statuses.AddOrUpdate(status, 1, (_, c) => c + 1);
                    if (status == TaskStatuses.Completed && answered != seq)
                    {
                        Interlocked.Increment(ref mismatched); // a result that belongs to another task
                    }
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref clientErrors);
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
        var elapsed = clock.Elapsed;

        // Quiescence, bounded: every attempt ended and every slot released.
        var settle = Stopwatch.StartNew();
        while ((registry.Agents.Any(a => a.Pending != 0) || dispatcher.InFlightCount != 0) && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        var pendingLeft = registry.Agents.Sum(a => a.Pending) + dispatcher.InFlightCount;
        var snapshot = counters.Snapshot();
        string[] finals = [TaskStatuses.Completed, TaskStatuses.Failed, TaskStatuses.Timeout, TaskStatuses.NoAgents, TaskStatuses.Rejected,
            TaskStatuses.Overloaded, TaskStatuses.Cancelled, TaskStatuses.RateLimited];
        var report = new ChaosReport
        {
            Submitted = tasks,
            ResultsReceived = resultsPerTask.Sum(),
            Completed = statuses.GetValueOrDefault(TaskStatuses.Completed),
            Failed = statuses.GetValueOrDefault(TaskStatuses.Failed),
            Timeout = statuses.GetValueOrDefault(TaskStatuses.Timeout),
            Other = statuses.Where(s => s.Key is not (TaskStatuses.Completed or TaskStatuses.Failed or TaskStatuses.Timeout)).ToDictionary(s => s.Key, s => s.Value),
            Duplicates = resultsPerTask.Count(c => c > 1) + mismatched,
            Lost = resultsPerTask.Count(c => c == 0),
            PendingLeft = pendingLeft,
            HubSubmitted = snapshot["submitted"],
            HubFinalSum = finals.Sum(s => snapshot[s]),
            Failovers = snapshot["failovers"],
            Hedges = snapshot["hedges"],
            LateCompletions = snapshot["lateCompletions"],
            Door = door,
            DoorRequests = counters.FrontDoors().GetValueOrDefault(door switch { "http" => "http", "stream" => "signalr_stream", _ => "signalr" })?.Values.Sum() ?? 0,
            Agents = agentCount,
            Kills = kills,
            AgentsKilled = killedAgents.Count,
            ClientErrors = clientErrors,
            Seconds = Math.Round(elapsed.TotalSeconds, 2),
        };
        report = report with
        {
            Pass = report.Duplicates == 0 && report.Lost == 0 && report.PendingLeft == 0 && report.ClientErrors == 0
                && report.Submitted == report.Completed + report.Failed + report.Timeout + report.Other.Values.Sum()
                && report.HubSubmitted == report.HubFinalSum && report.HubSubmitted == report.Submitted && report.DoorRequests == report.Submitted,
        };

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine($"chaos: {tasks} tasks through {door} over {agentCount} agents in {report.Seconds} s; {kills} kills ({killedAgents.Count} distinct agents, {perRoundText(agentCount, killFraction)} per round)");
            Console.WriteLine($"  submitted        {report.Submitted}");
            Console.WriteLine($"  results received {report.ResultsReceived}");
            Console.WriteLine($"  completed        {report.Completed}");
            Console.WriteLine($"  failed           {report.Failed}");
            Console.WriteLine($"  timeout          {report.Timeout}");
            Console.WriteLine($"  other statuses   {(report.Other.Count == 0 ? "none" : string.Join(", ", report.Other.Select(o => $"{o.Key}={o.Value}")))}");
            Console.WriteLine($"  duplicates       {report.Duplicates}");
            Console.WriteLine($"  lost             {report.Lost}");
            Console.WriteLine($"  pending left     {report.PendingLeft}");
            Console.WriteLine($"  hub: submitted {report.HubSubmitted}, final statuses {report.HubFinalSum}, failovers {report.Failovers}, hedges {report.Hedges}, late completions {report.LateCompletions}, client errors {report.ClientErrors}, requests through {door} {report.DoorRequests}");
            Console.WriteLine(report.Pass ? "PASS" : "FAIL");
        }

        foreach (var agent in agents)
        {
            await agent!.DisposeAsync();
        }

        return report.Pass ? 0 : 1;

        static string perRoundText(int count, double fraction) => $"{Math.Max(1, (int)Math.Round(count * fraction))} of {count}";
    }

    private static Task<AicpAgent> StartAgentAsync(Uri hub, int i, HubProtocol protocol) => StartAgentAsync(hub.ToString(), i, protocol);

    /// <summary>Agent <c>chaos-i</c> on <paramref name="hubUrls"/> (one URL, or several nodes separated by commas), answering with the task's sequence number.</summary>
    internal static async Task<AicpAgent> StartAgentAsync(string hubUrls, int i, HubProtocol protocol)
    {
        var id = $"chaos-{i}";
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrls, AgentId = id, MaxConcurrency = 16, Protocol = protocol,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        agent.Handle(Method, async (task, ct) =>
        {
            await Task.Delay(Random.Shared.Next(0, 3), ct);
            return new { seq = task.GetPayload<SeqPayload>()!.Seq, agent = id };
        });
        await agent.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return agent;
    }

    internal sealed record SeqPayload(int Seq);

    private sealed record ChaosReport
    {
        public int Submitted { get; init; }
        public int ResultsReceived { get; init; }
        public int Completed { get; init; }
        public int Failed { get; init; }
        public int Timeout { get; init; }
        public Dictionary<string, int> Other { get; init; } = [];
        public int Duplicates { get; init; }
        public int Lost { get; init; }
        public long PendingLeft { get; init; }
        public long HubSubmitted { get; init; }
        public long HubFinalSum { get; init; }
        public long Failovers { get; init; }
        public long Hedges { get; init; }
        public long LateCompletions { get; init; }
        public string Door { get; init; } = "";
        public long DoorRequests { get; init; }
        public int Agents { get; init; }
        public int Kills { get; init; }
        public int AgentsKilled { get; init; }
        public int ClientErrors { get; init; }
        public double Seconds { get; init; }
        public bool Pass { get; init; }
    }
}
