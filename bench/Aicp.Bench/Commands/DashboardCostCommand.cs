using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Bench.Roles;
using Aicp.Hub.Dashboard;
using Aicp.Hub.Hosting;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>dashboard-cost</c>: what one status-feed subscriber (the <c>/dashboard</c> page's <c>SubscribeStatus</c>) costs
/// the hub under a steady load. The real hub, N agents and the submitters each run in their own process on loopback;
/// one load process holds an open-loop rate (1,000 tasks/s by default) through the whole run. Measurement windows
/// alternate, without a subscriber and with one (this process, over JSON like the page, looking at the first page of
/// agents), and the hub process's CPU time over each window is read from /proc. A first window warms up and is not
/// counted; alternating cancels the drift of a shared machine; the medians of each kind are compared. Before the phases, the parts of the cost are measured in-process,
/// where other load on the machine moves them much less: CPU per snapshot (built for the same number of agents and
/// serialized as the JSON protocol does) and the cost per task of the latency listener that runs while someone is
/// subscribed.
/// </summary>
internal static class DashboardCostCommand
{
    public const string Name = "dashboard-cost";
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Agents, in one process", 1_000, max: 10_000);
    private static readonly Option<int> Submitters = BenchOptions.Int("--submitters", "Submitter connections, in one process", 4, max: 1_000);
    private static readonly Option<double?> Rate = BenchOptions.Double("--rate", "Tasks per second, open loop", 1_000, 1, 1_000_000);
    private static readonly Option<double?> Seconds = BenchOptions.Double("--seconds", "Length of each phase, s", 20, 1, 3_600);
    private static readonly Option<int> Runs = BenchOptions.Int("--runs", "Phases of each kind (without, with a subscriber), alternating", 3, max: 100);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "Hub CPU at a steady task rate without and with one status-feed subscriber (the dashboard), in alternating phases.")
        {
            Agents, Submitters, Rate, Seconds, Runs, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var o = new Settings(parse.GetValue(Agents), parse.GetValue(Submitters), parse.GetValue(Rate)!.Value, parse.GetValue(Seconds)!.Value,
            parse.GetValue(Runs));
        var json = parse.GetValue(Json);
        var ready = TimeSpan.FromSeconds(120);
        var parts = await MeasurePartsAsync(o.Agents);
        Progress($"in-process: {parts.SnapshotCpuUs:0} us CPU per snapshot of {parts.SnapshotBytes} B ({o.Agents} agents), " +
                 $"{parts.ListenerNsPerTask:0} ns per task for the latency listener");

        await using var hub = ChildProcess.Start(HubRole.Name, [], new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
        var hubUrl = await hub.ExpectAsync("ready ", ready);
        await using var agents = ChildProcess.Start(AgentsRole.Name, ["--hub", hubUrl, "--agents", Str(o.Agents), "--concurrency", "1024"]);
        await agents.ExpectAsync("connecting", ready);
        await agents.ExpectAsync("ready ", TimeSpan.FromSeconds(300));
        Progress($"hub {hubUrl} (pid {hub.Pid}), {o.Agents} agents (pid {agents.Pid}); {o.Runs} x (without, with) at {o.Rate}/s for {o.Seconds} s");

        // One load process holds the rate through every window, so no window pays for connections or warm-up; the
        // subscriber connects before and leaves after each "with" window.
        const double LoadWarmup = 2;
        var warmup = Math.Max(5, o.Seconds / 2); // JIT and tiering of the task path and of the feed, not counted
        var total = warmup + 2 * o.Runs * (o.Seconds + 1) + 5;
        await using var load = ChildProcess.Start(LoadRole.Name,
        [
            "--target", "hub", "--url", hubUrl, "--connections", Str(o.Submitters), "--seconds", Str(total), "--warmup", Str(LoadWarmup),
            "--rate", Str(o.Rate),
        ]);
        await load.ExpectAsync("ready", TimeSpan.FromSeconds(90));
        await load.SendAsync("go");
        await using (await Subscriber.StartAsync(hubUrl))
        {
            await Task.Delay(TimeSpan.FromSeconds(LoadWarmup + warmup)); // a measurement window, not a wait for an event
        }

        var without = new List<Phase>();
        var with = new List<Phase>();
        for (var run = 0; run < o.Runs; run++)
        {
            without.Add(await WindowAsync(hub, o, subscribe: false, hubUrl));
            with.Add(await WindowAsync(hub, o, subscribe: true, hubUrl));
        }

        var line = await load.ExpectAsync("result ", TimeSpan.FromSeconds(total + 90));
        var loadResult = JsonSerializer.Deserialize<LoadRole.RunResult>(line)!;
        await load.StopAsync(TimeSpan.FromSeconds(5));
        await agents.StopAsync(TimeSpan.FromSeconds(10));
        await hub.StopAsync(TimeSpan.FromSeconds(10));

        var offCpu = Median(without.Select(p => p.HubCpuPercent));
        var onCpu = Median(with.Select(p => p.HubCpuPercent));
        var result = new
        {
            hubCpuPercentWithout = offCpu,
            hubCpuPercentWith = onCpu,
            addedCpuPercentOfACore = Math.Round(onCpu - offCpu, 2),
            addedRelativePercent = offCpu == 0 ? 0 : Math.Round((onCpu / offCpu - 1) * 100, 1),
            hubCpuUsPerTaskWithout = Median(without.Select(p => p.HubCpuUsPerTask)),
            hubCpuUsPerTaskWith = Median(with.Select(p => p.HubCpuUsPerTask)),
            tasksPerSec = loadResult.PerSec,
            p50Ms = loadResult.Latency.P50Ms,
            p99Ms = loadResult.Latency.P99Ms,
            snapshotCpuUs = parts.SnapshotCpuUs,
            inProcessSnapshotBytes = parts.SnapshotBytes,
            listenerNsPerTask = parts.ListenerNsPerTask,
            partsPercentOfACore = Math.Round((parts.SnapshotCpuUs * Median(with.Select(p => p.PushesPerSec)) + parts.ListenerNsPerTask / 1000 * o.Rate) / 1e4, 3),
            pushesPerSec = Median(with.Select(p => p.PushesPerSec)),
            snapshotBytes = Median(with.Select(p => p.SnapshotBytes)),
            errors = loadResult.Errors,
            phasesWithout = without,
            phasesWith = with,
            settings = o,
            machine = Machine.Describe(),
        };
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result));
        }
        else
        {
            Console.WriteLine($"machine: {result.machine}");
            Console.WriteLine($"settings: {o}");
            Console.WriteLine();
            Console.WriteLine($"load: {loadResult.PerSec:0} tasks/s over the whole run, p50 {loadResult.Latency.P50Ms:0.00} ms, p99 {loadResult.Latency.P99Ms:0.00} ms, {loadResult.Errors} errors");
            Console.WriteLine();
            Console.WriteLine("window      | hub CPU % of a core | hub CPU us/task | pushes/s | snapshot bytes | load avg");
            foreach (var p in without.Zip(with).SelectMany(pair => new[] { pair.First, pair.Second }))
            {
                Console.WriteLine($"{(p.Subscribed ? "with" : "without"),-11} | {p.HubCpuPercent,19:0.00} | {p.HubCpuUsPerTask,15:0.0} | {p.PushesPerSec,8:0.00} | {p.SnapshotBytes,14:0} | {p.LoadAverage}");
            }

            Console.WriteLine();
            Console.WriteLine($"median hub CPU without a subscriber {offCpu:0.00}% of a core, with one {onCpu:0.00}%: " +
                $"{result.addedCpuPercentOfACore:+0.00;-0.00} points, {result.addedRelativePercent:+0.0;-0.0}% of the hub's CPU (target <= 5%: " +
                $"{(result.addedRelativePercent <= 5 ? "met" : "not met")}); {result.pushesPerSec:0.00} pushes/s of {result.snapshotBytes:0} bytes");
            Console.WriteLine($"in-process parts: {parts.SnapshotCpuUs:0} us CPU per snapshot, {parts.ListenerNsPerTask:0} ns per task for the latency listener: " +
                $"{result.partsPercentOfACore:0.000}% of a core at {result.pushesPerSec:0.00} pushes/s and {o.Rate} tasks/s, " +
                $"{(offCpu == 0 ? 0 : result.partsPercentOfACore / offCpu * 100):0.0}% of the hub's CPU without a subscriber");
        }

        return 0;
    }

    /// <summary>One measurement window of <see cref="Settings.Seconds"/> under the running load, with or without a subscriber.</summary>
    private static async Task<Phase> WindowAsync(ChildProcess hub, Settings o, bool subscribe, string hubUrl)
    {
        await using var subscriber = subscribe ? await Subscriber.StartAsync(hubUrl) : null;
        var pushes0 = subscriber?.Pushes ?? 0;
        var bytes0 = subscriber?.Bytes ?? 0;
        var hub0 = ProcStats.Read(hub.Pid);
        var watch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(o.Seconds)); // the measurement window, not a wait for an event
        var hub1 = ProcStats.Read(hub.Pid);
        var wall = watch.Elapsed.TotalSeconds;
        var pushes = (subscriber?.Pushes ?? 0) - pushes0;
        var bytes = (subscriber?.Bytes ?? 0) - bytes0;

        var cpu = hub1.CpuSeconds - hub0.CpuSeconds;
        var phase = new Phase(
            Subscribed: subscribe,
            HubCpuPercent: Math.Round(cpu / wall * 100, 2),
            HubCpuUsPerTask: Math.Round(cpu * 1e6 / (o.Rate * wall), 1),
            PushesPerSec: Math.Round(pushes / wall, 2),
            SnapshotBytes: pushes == 0 ? 0 : Math.Round((double)bytes / pushes),
            LoadAverage: Machine.LoadAverage());
        Progress($"{(subscribe ? "with a subscriber" : "without"),-18}: hub CPU {phase.HubCpuPercent:0.00}% ({phase.HubCpuUsPerTask:0.0} us/task), " +
                 $"{phase.PushesPerSec:0.00} pushes/s of {phase.SnapshotBytes:0} B (load {phase.LoadAverage})");
        return phase;
    }

    /// <summary>
    /// The feed's own work, in this process: a hub's services without sockets, <paramref name="agents"/> agents registered,
    /// a full route log and a trend sample per second. Returns CPU per snapshot (built for the default view and serialized
    /// with the JSON protocol's settings) and the extra CPU per finished task while the latency listener is on.
    /// </summary>
    private static async Task<Parts> MeasurePartsAsync(int agents)
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddAicpHub(configuration);
        services.AddAicpSecurity(configuration);
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<AgentRegistry>();
        for (var i = 0; i < agents; i++)
        {
            registry.Register($"conn-{i}", $"agent-{i:00000}", [Payloads.Method], 1024, new Dictionary<string, string>());
        }

        var routes = provider.GetRequiredService<RouteLog>();
        for (var i = 0; i < routes.Capacity; i++)
        {
            routes.Add(DateTimeOffset.UtcNow, Guid.NewGuid().ToString("N"), 1, Payloads.Method, new RouteEntry
            {
                Strategy = "adaptive", Candidates = agents, AgentId = $"agent-{i % agents:00000}", Pending = 1, LatencyEstimateMs = 2.5, Trust = 0.7,
                Outcome = AttemptOutcomes.Completed, Ms = 1.2,
            });
        }

        var metrics = provider.GetRequiredService<HubMetrics>();
        var trends = provider.GetRequiredService<CapabilityTrends>();
        var feed = provider.GetRequiredService<StatusFeed>();
        trends.Start();
        trends.Sample();
        var series = metrics.ForMethod(Payloads.Method);
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        var view = new StatusView().Normalized();

        // Snapshots: built and serialized as a push would be.
        const int Snapshots = 300;
        var bytes = 0;
        for (var i = 0; i < 30; i++)
        {
            bytes = JsonSerializer.SerializeToUtf8Bytes(feed.Build(view, trends.Tick - 1, full: false), json).Length; // warm-up
        }

        var cpu0 = Environment.CpuUsage.TotalTime;
        for (var i = 0; i < Snapshots; i++)
        {
            metrics.TaskFinished(series, TaskStatuses.Completed, 0.001);
            trends.Sample();
            bytes = JsonSerializer.SerializeToUtf8Bytes(feed.Build(view, trends.Tick - 1, full: false), json).Length;
        }

        var snapshotUs = (Environment.CpuUsage.TotalTime - cpu0).TotalMicroseconds / Snapshots;

        // The latency listener: what a finished task costs more while it is on.
        const int Tasks = 2_000_000;
        double PerTaskNs()
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Tasks; i++)
            {
                metrics.TaskFinished(series, TaskStatuses.Completed, 0.001);
            }

            return watch.Elapsed.TotalNanoseconds / Tasks;
        }

        PerTaskNs();
        var on = Enumerable.Range(0, 3).Select(_ => PerTaskNs()).Order().ElementAt(1);
        trends.Stop();
        PerTaskNs();
        var off = Enumerable.Range(0, 3).Select(_ => PerTaskNs()).Order().ElementAt(1);
        return new Parts(Math.Round(snapshotUs, 1), bytes, Math.Round(Math.Max(0, on - off), 1));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Str(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Progress(string message) => Console.Error.WriteLine($"[{Name}] {message}");

    internal sealed record Settings(int Agents, int Submitters, double Rate, double Seconds, int Runs);

    private sealed record Parts(double SnapshotCpuUs, int SnapshotBytes, double ListenerNsPerTask);

    internal sealed record Phase(bool Subscribed, double HubCpuPercent, double HubCpuUsPerTask, double PushesPerSec, double SnapshotBytes,
        string LoadAverage);

    /// <summary>One status subscriber over JSON, as the page is: counts the snapshots and their JSON bytes.</summary>
    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly ResilientHubConnection _connection;
        private long _pushes;
        private long _bytes;

        private Subscriber(ResilientHubConnection connection)
        {
            _connection = connection;
            connection.Connection.On<JsonElement>(StatusFeed.ClientMethod, snapshot =>
            {
                Interlocked.Add(ref _bytes, snapshot.GetRawText().Length);
                Interlocked.Increment(ref _pushes);
            });
        }

        public long Pushes => Interlocked.Read(ref _pushes);

        public long Bytes => Interlocked.Read(ref _bytes);

        public static async Task<Subscriber> StartAsync(string hubUrl)
        {
            var connection = new ResilientHubConnection(new AicpConnectionOptions { HubUrl = hubUrl, Protocol = HubProtocol.Json },
                static _ => { }, static (_, _) => Task.CompletedTask, loggerFactory: null);
            var subscriber = new Subscriber(connection);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await connection.StartAsync(timeout.Token);
            await connection.Connection.InvokeAsync<JsonElement>("SubscribeStatus", new StatusView(), timeout.Token);
            return subscriber;
        }

        public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
    }
}
