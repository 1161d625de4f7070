using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Bench.Commands;
using Aicp.Bench.Infrastructure;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aicp.Bench.Roles;

/// <summary>
/// <c>load-proc</c>: M client connections to the hub (Submit through <see cref="AicpTaskClient"/>) or to the echo
/// baseline (Echo through the SDK's <see cref="ResilientHubConnection"/>, the same client stack). Connects, prints
/// "ready", waits for "go", runs a warm-up and then the measured window (printing "measuring" as it starts), and prints
/// "result {json}". With <c>--warmup-until-told</c> the warm-up goes on past <c>--warmup</c> seconds (printing "warm")
/// until the parent writes "measure": the parent waits for every process's JIT to settle.
/// Closed loop (no <c>--rate</c>): every connection keeps <c>--inflight</c> calls outstanding.
/// Open loop (<c>--rate R</c>): calls start on a fixed schedule of R per second in all, whatever the answers do.
/// Latency is reported twice: from the moment the call was made, and from its scheduled start (which also counts
/// the sender's own timer lag, so a stalled sender cannot hide queueing: no coordinated omission).
/// </summary>
internal static class LoadRole
{
    public const string Name = "load-proc";

    private static readonly Option<string> Target = new("--target") { Description = "hub (Submit) or echo (the baseline)", DefaultValueFactory = _ => "hub" };
    private static readonly Option<string> Url = new("--url") { Description = "The hub's base URL, or the echo hub's endpoint", Required = true };
    private static readonly Option<int> Connections = BenchOptions.Int("--connections", "Client connections", 4, max: 10_000);
    private static readonly Option<int> Inflight = BenchOptions.Int("--inflight", "Calls each connection keeps in flight in the closed loop", 1, max: 10_000);
    private static readonly Option<double?> Seconds = BenchOptions.Double("--seconds", "Measured window, s", 10, 0.1, 86_400);
    private static readonly Option<double?> Warmup = BenchOptions.Double("--warmup", "Warm-up, not counted, s", 1, 0, 3_600);
    private static readonly Option<double?> Rate = BenchOptions.Double("--rate", "Open loop at this many calls/s (0: closed loop)", 0, 0, 10_000_000);
    private static readonly Option<HubProtocol> Protocol = BenchOptions.Protocol("Wire protocol of the connections");
    private static readonly Option<int> PayloadBytes = BenchOptions.Int("--payload-bytes", "Payload size", 256, min: 0, max: 16 * 1024 * 1024);
    private static readonly Option<bool> Binary = BenchOptions.Flag("--binary", "Payload { data: byte[B] } instead of a string");
    private static readonly Option<bool> Typed = BenchOptions.Flag("--typed", "Submit with SubmitAsync<T, T> (the result bound back to T)");
    private static readonly Option<bool> WarmupUntilTold = BenchOptions.Flag("--warmup-until-told",
        "After --warmup seconds print \"warm\" and keep warming up until the parent writes \"measure\"");

    /// <summary>The hidden child-process command; its arguments are written by the benchmarks that start it.</summary>
    public static Command Create()
    {
        var command = new Command(Name) { Target, Url, Connections, Inflight, Seconds, Warmup, Rate, Protocol, PayloadBytes, Binary, Typed, WarmupUntilTold };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var target = parse.GetValue(Target)!;
        var url = parse.GetValue(Url)!;
        var connections = parse.GetValue(Connections);
        var inflight = parse.GetValue(Inflight);
        var seconds = parse.GetValue(Seconds)!.Value;
        var warmup = parse.GetValue(Warmup)!.Value;
        var rate = parse.GetValue(Rate)!.Value;
        var protocol = parse.GetValue(Protocol);
        var bytes = parse.GetValue(PayloadBytes);
        var typed = parse.GetValue(Typed);
        var untilTold = parse.GetValue(WarmupUntilTold);
        object payload = parse.GetValue(Binary) ? Payloads.Binary(bytes) : typed ? Payloads.Text(bytes) : Payloads.OfSize(bytes);
        var link = ParentLink.Listen();

        var calls = new List<Func<Task<bool>>>(connections);
        var disposables = new List<IAsyncDisposable>();
        using (var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            for (var i = 0; i < connections; i++)
            {
                if (target == "echo")
                {
                    var connection = new ResilientHubConnection(new AicpConnectionOptions { HubUrl = url, Protocol = protocol }, static _ => { },
                        static (_, _) => Task.CompletedTask, loggerFactory: null);
                    await connection.StartAsync(connecting.Token);
                    disposables.Add(connection);
                    var hub = connection.Connection;
                    var serializer = new PayloadSerializer(AicpConnectionOptions.CreateSerializerOptions(), protocol);
                    calls.Add(async () =>
                    {
                        // Serialized on every call, as the task client serializes every submit's payload.
                        await hub.InvokeAsync<TaskPayload?>("Echo", serializer.Serialize(payload, payload.GetType())).ConfigureAwait(false);
                        return true;
                    });
                }
                else
                {
                    var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = url, Protocol = protocol });
                    await client.ConnectAsync(connecting.Token);
                    disposables.Add(client);
                    calls.Add(payload switch
                    {
                        Payloads.BinaryPayload binary when typed => TypedCall(client, binary),
                        Payloads.TextPayload text => TypedCall(client, text),
                        _ => async () => (await client.SubmitAsync(Payloads.Method, payload).ConfigureAwait(false)).Status == TaskStatuses.Completed,
                    });
                }
            }
        }

        ParentLink.Send("ready");
        await link.Go;

        var window = new MeasuredWindow();
        var running = rate > 0 ? OpenLoopAsync(calls, rate, window) : ClosedLoopAsync(calls, inflight, window);
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        if (untilTold)
        {
            ParentLink.Send("warm");
            await link.Measure;
        }

        // "measuring" marks the end of the warm-up, so the parent can count CPU and allocations over the measured window only.
        window.Start(seconds);
        ParentLink.Send("measuring");
        var run = RunResult.From(await running.WaitAsync(TimeSpan.FromSeconds(seconds + 60)), seconds, rate);
        ParentLink.Send("result " + JsonSerializer.Serialize(run));
        await link.Stop;
        foreach (var d in disposables)
        {
            _ = d.DisposeAsync().AsTask();
        }

        return 0;
    }

    private static Task<Worker[]> ClosedLoopAsync(List<Func<Task<bool>>> calls, int inflight, MeasuredWindow window)
    {
        var workers = new List<Task<Worker>>();
        foreach (var call in calls)
        {
            for (var k = 0; k < inflight; k++)
            {
                workers.Add(Task.Run(async () =>
                {
                    var w = new Worker();
                    while (Stopwatch.GetTimestamp() < window.StopAt)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        var ok = await SafeCall(call).ConfigureAwait(false);
                        var t1 = Stopwatch.GetTimestamp();
                        w.Record(ok, t0, t1, window);
                    }

                    return w;
                }));
            }
        }

        return Task.WhenAll(workers);
    }

    private static Task<Worker[]> OpenLoopAsync(List<Func<Task<bool>>> calls, double rate, MeasuredWindow window)
    {
        var origin = Stopwatch.GetTimestamp();
        var interval = Stopwatch.Frequency * calls.Count / rate; // per connection, in ticks
        var senders = new List<Task<Worker>>();
        for (var c = 0; c < calls.Count; c++)
        {
            var call = calls[c];
            var phase = interval * c / calls.Count; // spread the connections' schedules evenly
            senders.Add(Task.Run(async () =>
            {
                var w = new Worker();
                var inFlight = new List<Task>();
                for (long n = 0; ; n++)
                {
                    var due = origin + (long)(phase + n * interval);
                    if (due >= window.StopAt)
                    {
                        break;
                    }

                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > Stopwatch.Frequency / 1000)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency)).ConfigureAwait(false);
                    }

                    inFlight.Add(Measure(call, due, w, window));
                    if (inFlight.Count >= 4096)
                    {
                        inFlight.RemoveAll(t => t.IsCompleted);
                    }
                }

                await Task.WhenAll(inFlight).ConfigureAwait(false);
                return w;
            }));
        }

        return Task.WhenAll(senders);

        static async Task Measure(Func<Task<bool>> call, long due, Worker w, MeasuredWindow window)
        {
            var t0 = Stopwatch.GetTimestamp();
            var ok = await SafeCall(call).ConfigureAwait(false);
            var t1 = Stopwatch.GetTimestamp();
            lock (w)
            {
                // Counted by its scheduled start, so the window holds exactly the calls offered in it.
                w.Record(ok, t0, t1, window, windowTick: due);
            }
        }
    }

    private static async Task<bool> SafeCall(Func<Task<bool>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>The measured window, in <see cref="Stopwatch"/> ticks: not yet begun (both ends at the end of time) until <see cref="Start"/>.</summary>
    internal sealed class MeasuredWindow
    {
        private long _from = long.MaxValue;
        private long _stopAt = long.MaxValue;

        public long From => Volatile.Read(ref _from);

        public long StopAt => Volatile.Read(ref _stopAt);

        /// <summary>Begins the window now, for <paramref name="seconds"/>; the end is set first, so no reader sees a start without it.</summary>
        public void Start(double seconds)
        {
            var now = Stopwatch.GetTimestamp();
            Volatile.Write(ref _stopAt, now + (long)(seconds * Stopwatch.Frequency));
            Volatile.Write(ref _from, now);
        }
    }

    internal sealed class Worker
    {
        /// <summary>From the moment the call was made to its answer.</summary>
        public List<double> Latencies { get; } = [];

        /// <summary>Open loop only: from the call's scheduled start to its answer (adds the sender's own timer lag).</summary>
        public List<double> FromSchedule { get; } = [];

        public long Total { get; private set; }

        public long Errors { get; private set; }

        /// <summary>
        /// Closed loop: a call counts when it ends inside the window. Open loop (<paramref name="windowTick"/> is the
        /// scheduled start): when it was scheduled inside it.
        /// </summary>
        public void Record(bool ok, long t0, long t1, MeasuredWindow window, long? windowTick = null)
        {
            Total++;
            var at = windowTick ?? t1;
            if (at < window.From || at > window.StopAt)
            {
                return;
            }

            if (!ok)
            {
                Errors++;
                return;
            }

            Latencies.Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
            if (windowTick is { } due)
            {
                FromSchedule.Add((t1 - due) * 1000.0 / Stopwatch.Frequency);
            }
        }
    }

    internal sealed record RunResult(long Completed, long Errors, long TotalCalls, double Seconds, double PerSec, double OfferedRate,
        LatencySummary Latency, LatencySummary? LatencyFromSchedule)
    {
        public static RunResult From(Worker[] workers, double seconds, double offeredRate)
        {
            var latency = LatencySummary.Of(workers.SelectMany(w => w.Latencies));
            var fromSchedule = offeredRate > 0 ? LatencySummary.Of(workers.SelectMany(w => w.FromSchedule)) : null;
            return new RunResult(latency.Count, workers.Sum(w => w.Errors), workers.Sum(w => w.Total), seconds,
                Math.Round(latency.Count / seconds, 1), offeredRate, latency, fromSchedule);
        }
    }

    /// <summary>A typed submit: the request written and the result bound straight in the connection's protocol.</summary>
    private static Func<Task<bool>> TypedCall<T>(AicpTaskClient client, T payload) => async () =>
    {
        await client.SubmitAsync<T, T>(Payloads.Method, payload).ConfigureAwait(false);
        return true;
    };
}
