using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Bench.Roles;
using Aicp.Protocol;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>connections --agents K</c>: K idle agents (maxConcurrency 1, no load reports) from one client process against
/// the hub in another. Hub RSS per agent, time until the hub counts all K, the cost of one pick among K candidates
/// (in-process, real strategies), and a task's round trip while all K are connected.
/// </summary>
internal static class ConnectionsCommand
{
    public const string Name = "connections";
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Idle agents to connect", 1_000, max: 100_000);
    private static readonly Option<int> Batch = BenchOptions.Int("--batch", "Agents connecting at once", 100, max: 100_000);
    private static readonly Option<int> RoundTrips = BenchOptions.Int("--round-trips", "Tasks timed while all agents are connected", 100, max: 1_000_000);
    private static readonly Option<bool> Json = BenchOptions.Json();
    private static readonly Option<bool> WorkstationGc = BenchOptions.WorkstationGc();

    public static Command Create()
    {
        var command = new Command(Name, "K idle agents against a hub in another process: hub memory per agent, time to register them all, " +
                                        "the cost of one pick among K, and a task's round trip meanwhile.")
        {
            Agents, Batch, RoundTrips, Json, WorkstationGc,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var count = parse.GetValue(Agents);
        var batch = parse.GetValue(Batch);
        var roundTrips = parse.GetValue(RoundTrips);
        var json = parse.GetValue(Json);
        var serverGc = !parse.GetValue(WorkstationGc);

        // Each process needs one descriptor per connection plus its own (assemblies, epoll, pipes).
        var limit = Machine.OpenFilesLimit();
        if (limit >= 0 && limit < count + 512)
        {
            Console.Error.WriteLine($"connections: the open-files limit is {limit}, too low for {count} connections per process; " +
                $"raise it in the shell first (ulimit -n {count + 1024}).");
            return 1;
        }

        var machine = Machine.Describe();
        var registerTimeout = TimeSpan.FromSeconds(30 + count * 0.03);
        var hubEnv = new Dictionary<string, string> { ["DOTNET_gcServer"] = serverGc ? "1" : "0" };
        await using var hub = ChildProcess.Start(HubRole.Name, [], hubEnv);
        var hubUrl = await hub.ExpectAsync("ready ", TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = new Uri(hubUrl), Timeout = TimeSpan.FromSeconds(10) };
        await AgentCountAsync(http); // first request warms the status endpoint
        await Task.Delay(1000);
        var before = ProcStats.Read(hub.Pid);

        await using var client = ChildProcess.Start(AgentsRole.Name,
            ["--hub", hubUrl, "--agents", Str(count), "--concurrency", "1", "--batch", Str(batch), "--id-prefix", "idle",
             "--timeout-s", Str((int)registerTimeout.TotalSeconds)]);
        await client.ExpectAsync("connecting", TimeSpan.FromSeconds(90));
        var sw = Stopwatch.StartNew();
        var lastReport = 0;
        while (true)
        {
            var agents = await AgentCountAsync(http);
            if (agents >= count)
            {
                break;
            }

            if (client.HasExited)
            {
                throw new InvalidOperationException($"The agents process exited with {agents} of {count} agents registered.");
            }

            if (sw.Elapsed > registerTimeout)
            {
                throw new TimeoutException($"Only {agents} of {count} agents registered within {registerTimeout.TotalSeconds:0} s.");
            }

            if ((int)sw.Elapsed.TotalSeconds >= lastReport + 5)
            {
                lastReport = (int)sw.Elapsed.TotalSeconds;
                Console.Error.WriteLine($"[connections] hub counts {agents}/{count} agents after {sw.Elapsed.TotalSeconds:0} s (load {Machine.LoadAverage()})");
            }

            await Task.Delay(50);
        }

        var registerSeconds = sw.Elapsed.TotalSeconds;
        await client.ExpectAsync("ready ", TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        var after = ProcStats.Read(hub.Pid);

        // Idle cost: hub CPU over a few seconds with K quiet connections (keep-alive pings only), after registration settled.
        await Task.Delay(2000);
        var idle0 = ProcStats.Read(hub.Pid);
        await Task.Delay(3000);
        var idle1 = ProcStats.Read(hub.Pid);

        var roundTrip = await RoundTripAsync(hubUrl, roundTrips);
        var final = ProcStats.Read(hub.Pid);
        var picks = PickCost.Measure(count);
        await client.StopAsync(TimeSpan.FromSeconds(10));
        await hub.StopAsync(TimeSpan.FromSeconds(10));

        var perAgentKb = Math.Round((after.RssKb - before.RssKb) / (double)count, 1);
        var idleCpuPercent = Math.Round((idle1.CpuSeconds - idle0.CpuSeconds) / 3.0 * 100, 1);
        var projected10kMb = Math.Round((before.RssKb + perAgentKb * 10_000) / 1024.0, 0);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                agents = count,
                registerSeconds = Math.Round(registerSeconds, 2),
                agentsPerSec = Math.Round(count / registerSeconds, 0),
                hubRssBeforeMb = Math.Round(before.RssMb, 1),
                hubRssAfterMb = Math.Round(after.RssMb, 1),
                hubPeakRssMb = Math.Round(final.PeakRssMb, 1),
                hubRssPerAgentKb = perAgentKb,
                projected10kRssMb = projected10kMb,
                hubIdleCpuPercent = idleCpuPercent,
                roundTripP50Ms = roundTrip.P50Ms,
                roundTripP99Ms = roundTrip.P99Ms,
                picks = picks.Select(p => new { strategy = p.Strategy, scenario = p.Scenario, cpuNsPerPick = p.NsPerPick, wallNsPerPick = p.WallNsPerPick, picks = p.Picks }),
                machine,
            }));
        }
        else
        {
            Console.WriteLine($"machine: {machine}");
            Console.WriteLine($"{count} idle agents registered in {registerSeconds:0.00} s ({count / registerSeconds:0}/s)");
            Console.WriteLine($"hub RSS {before.RssMb:0.0} MB before, {after.RssMb:0.0} MB after: {perAgentKb:0.0} KB per agent (peak {final.PeakRssMb:0.0} MB; at 10,000 agents about {projected10kMb:0} MB)");
            Console.WriteLine($"hub CPU while idle with {count} agents: {idleCpuPercent:0.0}% of one core");
            Console.WriteLine($"task round trip with {count} connected: p50 {roundTrip.P50Ms:0.00} ms, p99 {roundTrip.P99Ms:0.00} ms ({roundTrip.Count} tasks, one at a time)");
            foreach (var p in picks)
            {
                Console.WriteLine($"pick {p.Strategy,-12} {p.Scenario,-8} among {p.Candidates}: {p.NsPerPick,10:0.0} ns CPU/pick, {p.WallNsPerPick,10:0.0} ns wall/pick ({p.Picks} picks)");
            }
        }

        return 0;
    }

    internal static async Task<int> AgentCountAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/v1/stats"));
        return doc.RootElement.GetProperty("agents").GetInt32();
    }

    private static async Task<LatencySummary> RoundTripAsync(string hubUrl, int count)
    {
        await using var submitter = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hubUrl });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await submitter.ConnectAsync(cts.Token);
        var payload = Payloads.OfSize(256);
        var samples = new List<double>(count);
        for (var i = -10; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var result = await submitter.SubmitAsync(Payloads.Method, payload, cancellationToken: cts.Token);
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (result.Status != TaskStatuses.Completed)
            {
                throw new InvalidOperationException($"A round-trip task ended {result.Status}: {result.Error?.Code} {result.Error?.Message}");
            }

            if (i >= 0)
            {
                samples.Add(ms);
            }
        }

        return LatencySummary.Of(samples);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
