using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Bench.Infrastructure;
using Aicp.Bench.Roles;
using Aicp.Hub.Cluster;
using Aicp.Hub.Hosting;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>cluster-memory</c>: what being a node of a cluster costs a hub per agent. For each N of <c>--agents</c>, a hub
/// in a child process, once alone and once as a node on a loopback redis-server (heartbeat 1 s), gets N idle agents
/// (maxConcurrency 1) from another child process, as <c>connections</c> does. Reports for each: RSS and managed heap
/// (<c>dotnet_gc_heap_size_bytes</c>, not collected first) per agent, and CPU while idle over 10 s; for the node,
/// the size of its published snapshot in Redis and the CPU a heartbeat adds (idle CPU over the hub alone's, per
/// heartbeat). In this process, with N agents registered: the CPU of one snapshot written (built and serialized),
/// and of one read (parsed, and the other nodes' agents indexed by capability), as every other node does each heartbeat.
/// </summary>
internal static class ClusterMemoryCommand
{
    public const string Name = "cluster-memory";
    private static readonly Option<string> Agents = new("--agents") { Description = "Agent counts to measure, comma-separated", DefaultValueFactory = _ => "1000,5000" };
    private static readonly Option<int> IdleSeconds = BenchOptions.Int("--idle-seconds", "Seconds of idle CPU measured per hub", 10, max: 3_600);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "A hub's RSS, heap and idle CPU per agent as a node of a cluster against alone; the node's snapshot size and CPU per heartbeat.")
        {
            Agents, IdleSeconds, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var counts = parse.GetValue(Agents)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var idleSeconds = parse.GetValue(IdleSeconds);
        var limit = Machine.OpenFilesLimit();
        if (limit >= 0 && limit < counts.Max() + 512)
        {
            Console.Error.WriteLine($"{Name}: the open-files limit is {limit}, too low for {counts.Max()} connections; raise it first (ulimit -n {counts.Max() + 1024}).");
            return 1;
        }

        await using var redis = await RedisProcess.StartAsync();
        var rows = new List<object>();
        foreach (var count in counts)
        {
            var alone = await MeasureHubAsync(null, count, idleSeconds);
            var node = await MeasureHubAsync(redis, count, idleSeconds);
            var (writeMs, readMs, bytes, writeAllocated, readAllocated) = MeasureHeartbeatWork(count);
            var cpuPerHeartbeatMs = (node.IdleCpuSeconds - alone.IdleCpuSeconds) * 1000 / idleSeconds;
            var row = new
            {
                agents = count,
                alone = alone.Summary(count),
                node = node.Summary(count),
                snapshotBytes = node.SnapshotBytes,
                snapshotBytesPerAgent = Math.Round(node.SnapshotBytes / (double)count, 1),
                idleCpuPerHeartbeatMs = Math.Round(cpuPerHeartbeatMs, 2),
                snapshotWriteCpuMs = Math.Round(writeMs, 3),
                snapshotReadAndIndexCpuMs = Math.Round(readMs, 3),
                inProcessSnapshotBytes = bytes,
                snapshotWriteAllocatedBytes = writeAllocated,
                snapshotReadAndIndexAllocatedBytes = readAllocated,
                load = Machine.LoadAverage(),
            };
            rows.Add(row);
            if (!parse.GetValue(Json))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{count} agents: RSS/agent alone {alone.RssPerAgentKb(count):F1} KB, node {node.RssPerAgentKb(count):F1} KB; heap/agent alone {alone.HeapPerAgentKb(count):F1} KB, " +
                    $"node {node.HeapPerAgentKb(count):F1} KB; snapshot {node.SnapshotBytes:N0} B ({row.snapshotBytesPerAgent:F1} B/agent); idle CPU alone {alone.IdleCpuSeconds * 100 / idleSeconds:F1}%, " +
                    $"node {node.IdleCpuSeconds * 100 / idleSeconds:F1}% of a core ({cpuPerHeartbeatMs:F1} ms per heartbeat; GCs while idle alone {alone.IdleCollections} " +
                    $"({alone.IdleFullCollections} full), node {node.IdleCollections} ({node.IdleFullCollections} full)); in-process: write {writeMs:F2} ms ({writeAllocated:N0} B allocated), " +
                    $"read and index {readMs:F2} ms ({readAllocated:N0} B) per snapshot " +
                    $"(load {row.load})"));
            }
        }

        if (parse.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new { machine = Machine.Describe(), idleSeconds, rows }));
        }
        else
        {
            Console.WriteLine($"machine: {Machine.Describe()}");
        }

        return 0;
    }

    private sealed record HubFigures(ProcStats Before, ProcStats After, double HeapBefore, double HeapAfter, double IdleCpuSeconds, long SnapshotBytes,
        int IdleCollections, int IdleFullCollections)
    {
        public double RssPerAgentKb(int count) => (After.RssKb - Before.RssKb) / (double)count;

        public double HeapPerAgentKb(int count) => (HeapAfter - HeapBefore) / 1024.0 / count;

        public object Summary(int count) => new
        {
            rssBeforeMb = Math.Round(Before.RssMb, 1), rssAfterMb = Math.Round(After.RssMb, 1), rssPerAgentKb = Math.Round(RssPerAgentKb(count), 1),
            heapBeforeMb = Math.Round(HeapBefore / 1048576, 1), heapAfterMb = Math.Round(HeapAfter / 1048576, 1), heapPerAgentKb = Math.Round(HeapPerAgentKb(count), 1),
            idleCpuSeconds = Math.Round(IdleCpuSeconds, 3), idleCollections = IdleCollections, idleFullCollections = IdleFullCollections,
        };
    }

    /// <summary>A hub in a child process (a node of a cluster on <paramref name="redis"/>, or alone), before and after <paramref name="count"/> idle agents.</summary>
    private static async Task<HubFigures> MeasureHubAsync(RedisProcess? redis, int count, int idleSeconds)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" };
        if (redis is not null)
        {
            environment["Aicp__Cluster__Redis"] = redis.Endpoint;
            environment["Aicp__Cluster__NodeId"] = "node-0";
        }

        await using var hub = ChildProcess.Start(HubRole.Name, [], environment);
        var hubUrl = await hub.ExpectAsync("ready ", TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = new Uri(hubUrl), Timeout = TimeSpan.FromSeconds(10) };
        await ConnectionsCommand.AgentCountAsync(http);
        await Task.Delay(1000);
        var before = ProcStats.Read(hub.Pid);
        var heapBefore = await HeapAsync(http);

        var timeout = TimeSpan.FromSeconds(30 + count * 0.03);
        await using var agents = ChildProcess.Start(AgentsRole.Name,
            ["--hub", hubUrl, "--agents", Str(count), "--concurrency", "1", "--batch", "100", "--id-prefix", "idle", "--timeout-s", Str((int)timeout.TotalSeconds)]);
        await agents.ExpectAsync("connecting", TimeSpan.FromSeconds(90));
        var watch = Stopwatch.StartNew();
        while (await ConnectionsCommand.AgentCountAsync(http) < count)
        {
            if (agents.HasExited || watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{count} agents did not all register within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(100);
        }

        await agents.ExpectAsync("ready ", TimeSpan.FromSeconds(30));
        await Task.Delay(2000); // at least one heartbeat with every agent
        var after = ProcStats.Read(hub.Pid);
        var heapAfter = await HeapAsync(http);
        var idle0 = ProcStats.Read(hub.Pid);
        var gc0 = await ScrapeAsync(http);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        var idle1 = ProcStats.Read(hub.Pid);
        var gc1 = await ScrapeAsync(http);
        long snapshotBytes = 0;
        if (redis is not null)
        {
            await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
            snapshotBytes = await client.GetDatabase().StringLengthAsync("aicp:node:node-0");
        }

        await agents.StopAsync(TimeSpan.FromSeconds(30));
        await hub.StopAsync(TimeSpan.FromSeconds(10));
        return new HubFigures(before, after, heapBefore, heapAfter, idle1.CpuSeconds - idle0.CpuSeconds, snapshotBytes,
            (int)(gc1.Collections - gc0.Collections), (int)(gc1.FullCollections - gc0.FullCollections));
    }

    private static async Task<double> HeapAsync(HttpClient http) => (await ScrapeAsync(http)).Heap;

    /// <summary>The hub's managed heap and its garbage collections so far (all generations, and full ones: gen2).</summary>
    private static async Task<(double Heap, double Collections, double FullCollections)> ScrapeAsync(HttpClient http)
    {
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');
        static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        var heap = Value(lines.First(l => l.StartsWith("dotnet_gc_heap_size_bytes ", StringComparison.Ordinal)));
        var collections = lines.Where(l => l.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal)).ToArray();
        return (heap, collections.Sum(Value), collections.Where(l => l.Contains("=\"2\"", StringComparison.Ordinal)).Sum(Value));
    }

    /// <summary>
    /// In this process: CPU milliseconds to write one snapshot of <paramref name="count"/> agents (built from the
    /// registry and serialized) and to read one (parsed, and indexed with two other nodes' views as a node does), and its bytes.
    /// </summary>
    private static (double WriteMs, double ReadMs, int Bytes, long WriteAllocated, long ReadAllocated) MeasureHeartbeatWork(int count)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aicp:Cluster:Redis"] = "127.0.0.1:1", ["Aicp:Cluster:NodeId"] = "node-0",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddAicpHub(configuration);
        using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<AgentRegistry>();
        for (var i = 0; i < count; i++)
        {
            registry.Register($"conn-{i}", $"idle-{i}", [Payloads.Method], 1, new Dictionary<string, string>());
        }

        var membership = provider.GetRequiredService<ClusterMembership>();
        var rounds = Math.Max(5, 200_000 / count);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var (writeMs, writeBytes) = CpuMs(rounds, () =>
        {
            buffer.ResetWrittenCount();
            membership.Snapshot(DateTimeOffset.UtcNow).WriteJson(buffer); // as a heartbeat writes it
        });
        var json = buffer.WrittenSpan.ToArray();
        var sends = new ConcurrentDictionary<(string, string), RemoteSends>();
        var (readMs, readBytes) = CpuMs(rounds, () =>
        {
            var snapshot = NodeSnapshot.TryParse(json, "node-0", out _)!;
            var view = new ClusterView("node-1", Clustered: true, RedisReachable: true, DateTimeOffset.UtcNow,
                [snapshot, new NodeSnapshot { Node = "node-1", At = 0, Agents = [] }]);
            RemoteAgentIndex.Build(view, sends);
        });
        return (writeMs, readMs, json.Length, writeBytes, readBytes);
    }

    /// <summary>CPU milliseconds and bytes allocated per run of <paramref name="work"/>.</summary>
    private static (double Ms, long Bytes) CpuMs(int rounds, Action work)
    {
        work(); // warm-up
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < rounds; i++)
        {
            work();
        }

        var bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / rounds;
        process.Refresh();
        return ((process.TotalProcessorTime - before).TotalMilliseconds / rounds, bytes);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
