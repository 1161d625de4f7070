using Aicp.Agent.Sdk.Connection;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aicp.Bench.Infrastructure;
using Aicp.Bench.Roles;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>e2e</c>: submitters → hub → agents on loopback, each in its own process, against a bare SignalR echo hub with
/// the same client stack (one hop instead of two), in one run. Phases, one after the other:
/// hub closed loop (peak), echo closed loop (peak), then both open loop at half of the hub's measured peak rate.
/// </summary>
internal static class E2eCommand
{
    public const string Name = "e2e";
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Agents, in one process", 4, max: 10_000);
    private static readonly Option<int> Submitters = BenchOptions.Int("--submitters", "Submitter connections, in one process", 4, max: 10_000);
    private static readonly Option<int> Inflight = BenchOptions.Int("--inflight", "Tasks each submitter connection keeps in flight in the closed loops", 1, max: 10_000);
    private static readonly Option<double?> Seconds = BenchOptions.Double("--seconds", "Length of each closed-loop phase, s", 10, 0.1, 86_400);
    private static readonly Option<double?> OpenSeconds = BenchOptions.Double("--open-seconds", "Length of each open-loop phase, s; default max(3, seconds / 2)", null, 0.1, 86_400);
    private static readonly Option<double?> Warmup = BenchOptions.Double("--warmup", "Warm-up before each phase, not counted, s; " +
        "then, unless --fixed-warmup, until every process's JIT has settled", 2, 0, 3_600);
    private static readonly Option<bool> FixedWarmup = BenchOptions.Flag("--fixed-warmup",
        "Measure after --warmup seconds even while the JIT is still compiling (tiering up)");
    private static readonly Option<int> PayloadBytes = BenchOptions.Int("--payload-bytes", "Payload size B: characters of {\"data\":\"xxx…\"}, or bytes with --binary", 256, max: 16 * 1024 * 1024);
    private static readonly Option<int> AgentConcurrency = BenchOptions.Int("--agent-concurrency", "maxConcurrency of each agent", 1024, max: 1_000_000);
    private static readonly Option<bool> WorkstationGc = BenchOptions.WorkstationGc();
    private static readonly Option<HubProtocol> Protocol = BenchOptions.Protocol("Hub protocol of every client (hub and echo phases alike)");
    private static readonly Option<bool> Binary = BenchOptions.Flag("--binary", "Payload { data: byte[B] } instead of a string");
    private static readonly Option<bool> HubOnly = BenchOptions.Flag("--hub-only", "Run the closed-loop hub phase alone");
    private static readonly Option<bool> Typed = BenchOptions.Flag("--typed",
        "Typed handlers and submits (Handle<T, T> / SubmitAsync<T, T>) instead of the raw payload passed through");
    private static readonly Option<string> ServerEnv = new("--server-env")
    {
        Description = "Runtime settings for both servers (hub and echo), e.g. DOTNET_TieredPGO=0",
        HelpName = "NAME=VALUE[,NAME=VALUE]",
    };

    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "Submitters -> hub -> agents on loopback, each in its own process, against a bare SignalR echo hub: " +
                                        "closed-loop peaks, then both at half the hub's peak rate.")
        {
            Agents, Submitters, Inflight, Seconds, OpenSeconds, Warmup, PayloadBytes, AgentConcurrency, WorkstationGc, Protocol, Binary, HubOnly, Typed,
            ServerEnv, FixedWarmup, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var seconds = parse.GetValue(Seconds)!.Value;
        var o = new Settings(
            Agents: parse.GetValue(Agents),
            Submitters: parse.GetValue(Submitters),
            Inflight: parse.GetValue(Inflight),
            Seconds: seconds,
            OpenSeconds: parse.GetValue(OpenSeconds) ?? Math.Max(3, seconds / 2),
            Warmup: parse.GetValue(Warmup)!.Value,
            PayloadBytes: parse.GetValue(PayloadBytes),
            AgentConcurrency: parse.GetValue(AgentConcurrency),
            ServerGc: !parse.GetValue(WorkstationGc),
            Protocol: parse.GetValue(Protocol),
            Binary: parse.GetValue(Binary),
            HubOnly: parse.GetValue(HubOnly),
            Typed: parse.GetValue(Typed),
            ServerEnv: parse.GetValue(ServerEnv),
            FixedWarmup: parse.GetValue(FixedWarmup));
        var json = parse.GetValue(Json);
        var machine = Machine.Describe();
        var hubEnv = new Dictionary<string, string> { ["DOTNET_gcServer"] = o.ServerGc ? "1" : "0" };
        foreach (var setting in (o.ServerEnv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // --server-env NAME=VALUE[,NAME=VALUE]: runtime settings for both servers (hub and echo), e.g. to compare
            // scheduling knobs with the baseline under the same ones.
            var equals = setting.IndexOf('=');
            if (equals <= 0)
            {
                throw new ArgumentException($"--server-env takes NAME=VALUE pairs separated by commas, not '{setting}'.");
            }

            hubEnv[setting[..equals]] = setting[(equals + 1)..];
        }

        var ready = TimeSpan.FromSeconds(90);

        await using var hub = ChildProcess.Start(HubRole.Name, [], hubEnv);
        await using var echo = ChildProcess.Start(EchoHubRole.Name, [], hubEnv);
        var hubUrl = await hub.ExpectAsync("ready ", ready);
        var echoUrl = (await echo.ExpectAsync("ready ", ready)).TrimEnd('/') + EchoHubRole.Path;
        await using var agents = ChildProcess.Start(AgentsRole.Name,
            ["--hub", hubUrl, "--agents", Str(o.Agents), "--concurrency", Str(o.AgentConcurrency), "--protocol", o.Protocol.ToString(),
             .. o.Typed ? ["--typed", .. o.Binary ? new[] { "--binary" } : []] : Array.Empty<string>()]);
        await agents.ExpectAsync("connecting", ready);
        await agents.ExpectAsync("ready ", ready);
        Progress(json, $"hub {hubUrl} (pid {hub.Pid}), echo {echoUrl} (pid {echo.Pid}), {o.Agents} agents (pid {agents.Pid})");

        var hubPeak = await PhaseAsync("hub, closed loop", "hub", hubUrl, hub, agents, o, rate: 0, json);
        var halfRate = Math.Max(1, Math.Round(hubPeak.Load.PerSec / 2));
        // --hub-only: the closed-loop hub phase alone (e.g. to compare protocols or payload kinds quickly).
        var echoPeak = o.HubOnly ? hubPeak : await PhaseAsync("echo, closed loop", "echo", echoUrl, echo, null, o, rate: 0, json);
        var hubHalf = o.HubOnly ? hubPeak : await PhaseAsync($"hub, open loop {halfRate}/s", "hub", hubUrl, hub, agents, o, halfRate, json);
        var echoHalf = o.HubOnly ? hubPeak : await PhaseAsync($"echo, open loop {halfRate}/s", "echo", echoUrl, echo, null, o, halfRate, json);
        var hubStats = ProcStats.Read(hub.Pid);
        var echoStats = ProcStats.Read(echo.Pid);

        await agents.StopAsync(TimeSpan.FromSeconds(10));
        await hub.StopAsync(TimeSpan.FromSeconds(10));
        await echo.StopAsync(TimeSpan.FromSeconds(10));

        var ratio = Ratio(hubPeak.Load.PerSec, echoPeak.Load.PerSec);
        var p50Ratio = Ratio(hubPeak.Load.Latency.P50Ms, echoPeak.Load.Latency.P50Ms);
        var halfP50Ratio = Ratio(hubHalf.Load.Latency.P50Ms, echoHalf.Load.Latency.P50Ms);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                tasksPerSec = hubPeak.Load.PerSec,
                p50Ms = hubPeak.Load.Latency.P50Ms,
                p99Ms = hubPeak.Load.Latency.P99Ms,
                p999Ms = hubPeak.Load.Latency.P999Ms,
                echoPerSec = echoPeak.Load.PerSec,
                echoP50Ms = echoPeak.Load.Latency.P50Ms,
                echoP99Ms = echoPeak.Load.Latency.P99Ms,
                ratio,
                p50Ratio,
                halfLoadRate = halfRate,
                halfLoadP50Ms = hubHalf.Load.Latency.P50Ms,
                halfLoadP99Ms = hubHalf.Load.Latency.P99Ms,
                echoHalfLoadP50Ms = echoHalf.Load.Latency.P50Ms,
                halfLoadP50Ratio = halfP50Ratio,
                halfLoadFromScheduleP50Ms = hubHalf.Load.LatencyFromSchedule?.P50Ms,
                echoHalfLoadFromScheduleP50Ms = echoHalf.Load.LatencyFromSchedule?.P50Ms,
                hubRssMb = Math.Round(hubStats.PeakRssMb, 1),
                echoRssMb = Math.Round(echoStats.PeakRssMb, 1),
                hubCpuUsPerTask = hubPeak.HubCpuUsPerCall,
                agentsCpuUsPerTask = hubPeak.AgentsCpuUsPerCall,
                submittersCpuUsPerTask = hubPeak.ClientCpuUsPerCall,
                echoCpuUsPerCall = echoPeak.HubCpuUsPerCall,
                echoClientCpuUsPerCall = echoPeak.ClientCpuUsPerCall,
                perCall = new
                {
                    hub = hubPeak.Server, agents = hubPeak.AgentsCost, submitters = hubPeak.Client,
                    echo = o.HubOnly ? null : echoPeak.Server, echoClient = o.HubOnly ? null : echoPeak.Client,
                },
                warmupSeconds = new { hub = hubPeak.WarmupSeconds, echo = o.HubOnly ? null : echoPeak.WarmupSeconds },
                errors = hubPeak.Load.Errors + echoPeak.Load.Errors + hubHalf.Load.Errors + echoHalf.Load.Errors,
                settings = o,
                machine,
            }));
        }
        else
        {
            Console.WriteLine($"machine: {machine}");
            Console.WriteLine($"settings: {o}");
            Console.WriteLine();
            Console.WriteLine("phase                      | calls/s   | p50 ms | p99 ms | p99.9 ms | errors | server CPU us/call | agents CPU us/call | clients CPU us/call");
            foreach (var (label, p) in new[] { ("hub peak (closed loop)", hubPeak), ("echo peak (closed loop)", echoPeak), ($"hub at {halfRate}/s (open)", hubHalf), ($"echo at {halfRate}/s (open)", echoHalf) })
            {
                Console.WriteLine($"{label,-26} | {p.Load.PerSec,9:0} | {p.Load.Latency.P50Ms,6:0.00} | {p.Load.Latency.P99Ms,6:0.00} | {p.Load.Latency.P999Ms,8:0.00} | {p.Load.Errors,6} | {p.HubCpuUsPerCall,18:0} | {(p.AgentsCpuUsPerCall is { } a ? a.ToString("0", CultureInfo.InvariantCulture) : "-"),18} | {p.ClientCpuUsPerCall,19:0}");
            }

            Console.WriteLine();
            Console.WriteLine("per task or call, closed loop | user us | kernel us | context switches | read calls | write calls | bytes allocated | JIT us");
            Console.WriteLine($"hub                          | {hubPeak.Server}");
            Console.WriteLine($"agents                       | {hubPeak.AgentsCost}");
            Console.WriteLine($"submitters                   | {hubPeak.Client}");
            if (!o.HubOnly)
            {
                Console.WriteLine($"echo hub                     | {echoPeak.Server}");
                Console.WriteLine($"echo clients                 | {echoPeak.Client}");
            }

            Console.WriteLine();
            Console.WriteLine($"hub peak RSS {hubStats.PeakRssMb:0.0} MB, echo hub peak RSS {echoStats.PeakRssMb:0.0} MB");
            Console.WriteLine($"throughput hub/echo {ratio:0.000} (target >= 0.5: {(ratio >= 0.5 ? "met" : "not met")})");
            Console.WriteLine($"p50 at peak hub/echo {p50Ratio:0.00}");
            Console.WriteLine($"p50 at half of hub peak ({halfRate}/s) hub/echo {halfP50Ratio:0.00} (target <= 2.5: {(halfP50Ratio <= 2.5 ? "met" : "not met")}); " +
                $"counted from the schedule: hub {hubHalf.Load.LatencyFromSchedule?.P50Ms:0.00} ms, echo {echoHalf.Load.LatencyFromSchedule?.P50Ms:0.00} ms");
        }

        return 0;
    }

    private static async Task<PhaseResult> PhaseAsync(string label, string target, string url, ChildProcess server, ChildProcess? agents,
        Settings o, double rate, bool json)
    {
        var seconds = rate > 0 ? o.OpenSeconds : o.Seconds;
        List<string> loadArgs =
        [
            "--target", target, "--url", url, "--connections", Str(o.Submitters), "--inflight", Str(o.Inflight),
            "--seconds", Str(seconds), "--warmup", Str(o.Warmup), "--payload-bytes", Str(o.PayloadBytes), "--protocol", o.Protocol.ToString(),
        ];
        if (o.Binary)
        {
            loadArgs.Add("--binary");
        }

        if (o.Typed)
        {
            loadArgs.Add("--typed");
        }

        if (rate > 0)
        {
            loadArgs.AddRange(["--rate", Str(rate)]);
        }

        if (!o.FixedWarmup)
        {
            loadArgs.Add("--warmup-until-told");
        }

        await using var load = ChildProcess.Start(LoadRole.Name, loadArgs);
        await load.ExpectAsync("ready", TimeSpan.FromSeconds(90));
        await load.SendAsync("go");
        double? settledAfter = null;
        ChildProcess[] processes = agents is null ? [server, load] : [server, agents, load];
        if (!o.FixedWarmup)
        {
            // The warm-up (JIT, tiering, pools) is not counted: tiering up goes on for seconds after the first calls, on a
            // background thread whose CPU would otherwise be charged to the calls of the window.
            await load.ExpectAsync("warm", TimeSpan.FromSeconds(o.Warmup + 90));
            settledAfter = o.Warmup + await JitSettling.WaitAsync(processes, JitSettling.MaxWait);
            await load.SendAsync("measure");
        }

        await load.ExpectAsync("measuring", TimeSpan.FromSeconds(o.Warmup + 90));
        var jit0 = await JitSettling.ReadAsync(processes);
        var allocated0 = await AllocatedAsync(server, agents, load);
        var server0 = ProcStats.Read(server.Pid);
        var agents0 = agents is null ? default : ProcStats.Read(agents.Pid);
        var client0 = ProcStats.Read(load.Pid);
        var line = await load.ExpectAsync("result ", TimeSpan.FromSeconds(seconds + o.Warmup + 90));
        var server1 = ProcStats.Read(server.Pid);
        var agents1 = agents is null ? default : ProcStats.Read(agents.Pid);
        var client1 = ProcStats.Read(load.Pid);
        var allocated1 = await AllocatedAsync(server, agents, load);
        var jit1 = await JitSettling.ReadAsync(processes);
        await load.StopAsync(TimeSpan.FromSeconds(5));

        var result = JsonSerializer.Deserialize<LoadRole.RunResult>(line)!;
        var calls = result.Completed + result.Errors; // the calls of the measured window, whose CPU and allocations are counted
        var last = processes.Length - 1;
        var phase = new PhaseResult(result, CostPerCall.Of(server0, server1, allocated1.Server - allocated0.Server, jit1[0] - jit0[0], calls),
            agents is null ? null : CostPerCall.Of(agents0, agents1, allocated1.Agents - allocated0.Agents, jit1[1] - jit0[1], calls),
            CostPerCall.Of(client0, client1, allocated1.Client - allocated0.Client, jit1[last] - jit0[last], calls), settledAfter);
        Progress(json, $"{label}: {result.PerSec:0}/s p50 {result.Latency.P50Ms:0.00} ms p99 {result.Latency.P99Ms:0.00} ms, errors {result.Errors}, " +
            $"server CPU {phase.HubCpuUsPerCall:0} us/call, measured after {(settledAfter is { } s ? $"{s:0.0} s (JIT settled)" : $"{o.Warmup} s")} (load {Machine.LoadAverage()})");
        return phase;
    }

    private static async Task<(long Server, long Agents, long Client)> AllocatedAsync(ChildProcess server, ChildProcess? agents, ChildProcess load) =>
        (await server.AllocatedBytesAsync(), agents is null ? 0 : await agents.AllocatedBytesAsync(), await load.AllocatedBytesAsync());

    private static double Ratio(double a, double b) => b == 0 ? 0 : Math.Round(a / b, 3);

    private static string Str(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Progress(bool json, string message) => Console.Error.WriteLine($"[e2e] {message}");

    private sealed record PhaseResult(LoadRole.RunResult Load, CostPerCall Server, CostPerCall? AgentsCost, CostPerCall Client, double? WarmupSeconds)
    {
        public double HubCpuUsPerCall => Server.CpuUs;

        public double? AgentsCpuUsPerCall => AgentsCost?.CpuUs;

        public double ClientCpuUsPerCall => Client.CpuUs;
    }

    /// <summary>
    /// What one process spent per task (or echo call) in a closed-loop phase: CPU (in all, and split into user and
    /// kernel time), context switches of its threads, read- and write-family system calls on files and pipes
    /// (<see cref="ProcStats"/>), bytes allocated on its managed heap, and the JIT's compiling time (part of the CPU time;
    /// near zero once the JIT has settled), over the measured window (the warm-up is not counted).
    /// </summary>
    internal sealed record CostPerCall(double UserUs, double KernelUs, double ContextSwitches, double ReadCalls, double WriteCalls, double AllocatedBytes,
        double CpuUs, double JitUs)
    {
        public static CostPerCall Of(ProcStats before, ProcStats after, long allocated, TimeSpan jit, long calls)
        {
            double Per(double delta, double scale, int digits) => calls == 0 ? 0 : Math.Round(delta * scale / calls, digits);
            return new CostPerCall(Per(after.UserSeconds - before.UserSeconds, 1e6, 1), Per(after.SystemSeconds - before.SystemSeconds, 1e6, 1),
                Per(after.ContextSwitches - before.ContextSwitches, 1, 3), Per(after.ReadCalls - before.ReadCalls, 1, 3),
                Per(after.WriteCalls - before.WriteCalls, 1, 3), Per(allocated, 1, 0), Per(after.CpuSeconds - before.CpuSeconds, 1e6, 1),
                Per(jit.TotalSeconds, 1e6, 2));
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{UserUs,7:0.0} | {KernelUs,9:0.0} | {ContextSwitches,16:0.000} | {ReadCalls,10:0.000} | {WriteCalls,11:0.000} | {AllocatedBytes,15:0} | {JitUs,6:0.00}");
    }

    internal sealed record Settings(int Agents, int Submitters, int Inflight, double Seconds, double OpenSeconds, double Warmup,
        int PayloadBytes, int AgentConcurrency, bool ServerGc, HubProtocol Protocol, bool Binary, bool HubOnly, string? ServerEnv, bool Typed = false,
        bool FixedWarmup = false);
}
