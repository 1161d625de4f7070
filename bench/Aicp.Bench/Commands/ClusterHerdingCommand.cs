using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Hosting;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>cluster-herding</c>: how evenly tasks spread over the agents of three hub nodes whose views of each other are a
/// heartbeat old (the default 1 s). Three in-process nodes on a loopback redis-server; agents spread unevenly over the
/// nodes (<c>--agents 1,2,5</c>), each working <c>--work-ms</c> per task with <c>maxConcurrency</c>
/// <c>--max-concurrency</c>; one submitter per node sends tasks open-loop at an equal rate, together
/// <c>--load</c> of the fleet's capacity. Each round runs both rules on fresh nodes: <c>p2c</c> (the default: the
/// local strategy's agent against a remote power-of-two pick, ties local) and <c>local-first</c>
/// (<c>Aicp:Cluster:PreferLocal=true</c>). Reports per rule: each agent's share of the tasks (max over mean and
/// coefficient of variation; equal agents, so 1 and 0 are even), peak tasks in flight per agent against
/// <c>maxConcurrency</c>, refusals per 1,000 tasks, tasks run on another node, and latency p50/p99; medians over the rounds.
/// </summary>
internal static class ClusterHerdingCommand
{
    public const string Name = "cluster-herding";
    private const string Method = "bench.work";
    private static readonly Option<string> Agents = new("--agents") { Description = "Agents on each of the three nodes, comma-separated", DefaultValueFactory = _ => "1,2,5" };
    private static readonly Option<int> MaxConcurrency = BenchOptions.Int("--max-concurrency", "maxConcurrency of each agent", 4, max: 1_000);
    private static readonly Option<int> WorkMs = BenchOptions.Int("--work-ms", "Milliseconds each task takes on its agent", 100, max: 60_000);
    private static readonly Option<double?> Load = BenchOptions.Double("--load", "Offered load as a fraction of the fleet's capacity", 0.7, 0.01, 2);
    private static readonly Option<int> Seconds = BenchOptions.Int("--seconds", "Seconds of load per rule and round", 15, max: 3_600);
    private static readonly Option<int> Rounds = BenchOptions.Int("--rounds", "Rounds (each runs both rules)", 3, max: 100);
    private static readonly Option<bool> Json = BenchOptions.Json();

    private static readonly string[] Rules = ["p2c", "local-first"];

    public static Command Create()
    {
        var command = new Command(Name, "Task spread over three hub nodes' agents with heartbeat-old views: power of two choices against local-first, same run.")
        {
            Agents, MaxConcurrency, WorkMs, Load, Seconds, Rounds, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var perNode = parse.GetValue(Agents)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (perNode.Length != 3 || perNode.Any(n => n < 0) || perNode.Sum() == 0)
        {
            Console.Error.WriteLine("cluster-herding: --agents takes three counts, one per node, e.g. 1,2,5.");
            return 2;
        }

        var setup = new Setup(perNode, parse.GetValue(MaxConcurrency), parse.GetValue(WorkMs), parse.GetValue(Load)!.Value, parse.GetValue(Seconds));
        var rounds = parse.GetValue(Rounds);
        var results = Rules.ToDictionary(r => r, _ => new List<RuleResult>());
        await using var redis = await RedisProcess.StartAsync();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var rule in Rules)
            {
                var result = await RunRuleAsync(redis, setup, rule);
                results[rule].Add(result);
                Console.Error.WriteLine($"[{Name}] round {round + 1} {rule}: {Describe(result)} (load {Machine.LoadAverage()})");
            }
        }

        var medians = Rules.ToDictionary(r => r, r => RuleResult.Median(results[r]));
        if (parse.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                machine = Machine.Describe(), load = Machine.LoadAverage(), agents = perNode, setup.MaxConcurrency, setup.WorkMs, offeredLoad = setup.Load,
                tasksPerSecond = Math.Round(setup.Rate, 1), setup.Seconds, rounds, perRound = results, medians,
            }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: agents {string.Join(",", perNode)} on node-0..2, maxConcurrency {setup.MaxConcurrency}, {setup.WorkMs} ms per task, " +
                $"{setup.Load:P0} of capacity ({setup.Rate:F0} tasks/s), {setup.Seconds} s per rule, {rounds} round(s), heartbeat 1 s; {Machine.Describe()}"));
            foreach (var rule in Rules)
            {
                Console.WriteLine($"  {rule,-11} (medians) {Describe(medians[rule])}");
            }
        }

        return results.Values.SelectMany(r => r).All(r => r.PeakInFlight <= setup.MaxConcurrency) ? 0 : 1;
    }

    private static string Describe(RuleResult r) => string.Create(CultureInfo.InvariantCulture,
        $"share max/mean {r.ShareMaxOverMean:F2}, CV {r.ShareCv:F2}, peak in flight {r.PeakInFlight}, refusals/1000 {r.RefusalsPer1000:F1}, " +
        $"cross-node {r.CrossNodePercent:F1}%, p50 {r.P50Ms:F1} ms, p99 {r.P99Ms:F1} ms, {r.Completed} completed, {r.NotCompleted} not");

    private static async Task<RuleResult> RunRuleAsync(RedisProcess redis, Setup setup, string rule)
    {
        var settings = new Dictionary<string, string?> { ["Aicp:Cluster:PreferLocal"] = rule == "local-first" ? "true" : "false" };
        var nodes = new List<EmbeddedHub>();
        var agents = new List<(AicpAgent Agent, AgentTally Tally)>();
        var clients = new List<AicpTaskClient>();
        try
        {
            for (var k = 0; k < 3; k++)
            {
                nodes.Add(await BenchCluster.StartNodeAsync(redis, k, settings));
            }

            for (var k = 0; k < 3; k++)
            {
                for (var i = 0; i < setup.PerNode[k]; i++)
                {
                    var tally = new AgentTally();
                    var agent = new AicpAgent(new AgentOptions { HubUrl = nodes[k].BaseUrl.ToString(), AgentId = $"n{k}-agent-{i}", MaxConcurrency = setup.MaxConcurrency });
                    agent.Handle(Method, async (_, ct) =>
                    {
                        tally.Started();
                        try
                        {
                            await Task.Delay(setup.WorkMs, ct);
                            return 1;
                        }
                        finally
                        {
                            tally.Ended();
                        }
                    });
                    await agent.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
                    agents.Add((agent, tally));
                }
            }

            await BenchCluster.WaitForViewsAsync(nodes, agents.Count, TimeSpan.FromSeconds(30));
            foreach (var node in nodes)
            {
                var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = node.BaseUrl.ToString() });
                await client.ConnectAsync();
                clients.Add(client);
            }

            await OfferAsync(clients, setup, TimeSpan.FromSeconds(Math.Min(3, setup.Seconds)), null); // warm-up: views and pending counts settle
            foreach (var (_, tally) in agents)
            {
                tally.Reset();
            }

            var refusalsBefore = nodes.Sum(Refusals);
            var outcomes = new List<(double Ms, bool Completed, bool CrossNode)>();
            await OfferAsync(clients, setup, TimeSpan.FromSeconds(setup.Seconds), outcomes);
            var refusals = nodes.Sum(Refusals) - refusalsBefore;
            return RuleResult.Of(agents.Select(a => a.Tally).ToArray(), outcomes, refusals);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var (agent, _) in agents)
            {
                await agent.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static long Refusals(EmbeddedHub node) => node.Services.GetRequiredService<HubMetrics>().ClusterRefusalsTotal;

    /// <summary>Each client submits at an equal share of the rate, open-loop, for <paramref name="duration"/>; waits for every task's result.</summary>
    private static async Task OfferAsync(List<AicpTaskClient> clients, Setup setup, TimeSpan duration, List<(double, bool, bool)>? outcomes)
    {
        var interval = TimeSpan.FromSeconds(clients.Count / setup.Rate);
        var options = new SubmitOptions { Timeout = TimeSpan.FromSeconds(30) };
        var sent = new List<Task>();
        await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            var mine = new List<Task>();
            var watch = Stopwatch.StartNew();
            for (var k = 0; ; k++)
            {
                var due = interval * k;
                if (due >= duration)
                {
                    break;
                }

                var wait = due - watch.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                mine.Add(SubmitAsync(client, options, outcomes));
            }

            await Task.WhenAll(mine);
        })));
    }

    private static async Task SubmitAsync(AicpTaskClient client, SubmitOptions options, List<(double, bool, bool)>? outcomes)
    {
        var started = Stopwatch.GetTimestamp();
        TaskResult? result = null;
        try
        {
            result = await client.SubmitAsync(Method, null, options);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // counted below as not completed
        }

        if (outcomes is not null)
        {
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            lock (outcomes)
            {
                outcomes.Add((ms, result?.Status == TaskStatuses.Completed, result?.Route is [{ Node: not null }, ..]));
            }
        }
    }

    private sealed record Setup(int[] PerNode, int MaxConcurrency, int WorkMs, double Load, int Seconds)
    {
        /// <summary>Offered tasks per second: the fraction of what every agent's slots can serve.</summary>
        public double Rate => Load * PerNode.Sum() * MaxConcurrency * 1000.0 / WorkMs;
    }

    /// <summary>One agent's tasks and the most it ran at once.</summary>
    private sealed class AgentTally
    {
        private int _running;
        private int _peak;
        private int _tasks;

        public int Tasks => Volatile.Read(ref _tasks);

        public int Peak => Volatile.Read(ref _peak);

        public void Started()
        {
            Interlocked.Increment(ref _tasks);
            var now = Interlocked.Increment(ref _running);
            int seen;
            while ((seen = Volatile.Read(ref _peak)) < now && Interlocked.CompareExchange(ref _peak, now, seen) != seen)
            {
            }
        }

        public void Ended() => Interlocked.Decrement(ref _running);

        public void Reset()
        {
            Volatile.Write(ref _tasks, 0);
            Volatile.Write(ref _peak, Volatile.Read(ref _running));
        }
    }

    private sealed record RuleResult(double ShareMaxOverMean, double ShareCv, int PeakInFlight, double RefusalsPer1000, double CrossNodePercent,
        double P50Ms, double P99Ms, int Completed, int NotCompleted)
    {
        public static RuleResult Of(AgentTally[] agents, List<(double Ms, bool Completed, bool CrossNode)> outcomes, long refusals)
        {
            var tasks = agents.Select(a => (double)a.Tasks).ToArray();
            var mean = tasks.Average();
            var sd = Math.Sqrt(tasks.Select(t => (t - mean) * (t - mean)).Average());
            var latency = LatencySummary.Of(outcomes.Where(o => o.Completed).Select(o => o.Ms));
            return new RuleResult(Math.Round(tasks.Max() / mean, 3), Math.Round(sd / mean, 3), agents.Max(a => a.Peak),
                Math.Round(refusals * 1000.0 / Math.Max(1, outcomes.Count), 2), Math.Round(outcomes.Count(o => o.CrossNode) * 100.0 / Math.Max(1, outcomes.Count), 1),
                latency.P50Ms, latency.P99Ms, outcomes.Count(o => o.Completed), outcomes.Count(o => !o.Completed));
        }

        public static RuleResult Median(List<RuleResult> runs) => new(
            LatencySummary.Median(runs.Select(r => r.ShareMaxOverMean)), LatencySummary.Median(runs.Select(r => r.ShareCv)), runs.Max(r => r.PeakInFlight),
            LatencySummary.Median(runs.Select(r => r.RefusalsPer1000)), LatencySummary.Median(runs.Select(r => r.CrossNodePercent)),
            LatencySummary.Median(runs.Select(r => r.P50Ms)), LatencySummary.Median(runs.Select(r => r.P99Ms)),
            (int)LatencySummary.Median(runs.Select(r => (double)r.Completed)), (int)LatencySummary.Median(runs.Select(r => (double)r.NotCompleted)));
    }
}
