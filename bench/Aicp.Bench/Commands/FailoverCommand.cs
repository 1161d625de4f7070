using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hosting;
using Aicp.Hub.Hubs;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>failover</c>: how fast an in-flight task moves to another agent. Hub, agents and submitter share one process
/// and one clock (Stopwatch). The hub is the real one, with two recorders spliced in: the channel that sends
/// Execute (when each attempt was sent) and the time provider (when each attempt's timeout timer fired).
/// <list type="bullet">
/// <item>Disconnect: agent A holds the task (its handler never returns); B registers; A's socket is dropped
/// (<see cref="AicpAgent.AbortAsync"/>) at T0; T1 is when B's handler starts. Also split at the hub: when the
/// registry removed A, when the second Execute was sent.</item>
/// <item>Timeout: A holds a task with a short attempt timeout; from the timer firing (hub clock) to the second
/// Execute being sent; and, as the agents see it, B's start minus (A's start + timeout).</item>
/// </list>
/// </summary>
internal static class FailoverCommand
{
    public const string Name = "failover";
    private static readonly Option<int> Iterations = BenchOptions.Int("--iterations", "Measured failovers of each kind", 20, max: 10_000);
    private static readonly Option<int> Warmup = BenchOptions.Int("--warmup", "Failovers of each kind run first and not counted", 2, 0, 1_000);
    private static readonly Option<int> TimeoutMs = BenchOptions.Int("--timeout-ms", "Attempt timeout of the timeout case, ms", 200, max: 600_000);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "How fast an in-flight task moves to another agent, after a dropped socket and after an attempt timeout.")
        {
            Iterations, Warmup, TimeoutMs, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var iterations = parse.GetValue(Iterations);
        var warmup = parse.GetValue(Warmup);
        var timeoutMs = parse.GetValue(TimeoutMs);
        var json = parse.GetValue(Json);
        var machine = Machine.Describe();

        var time = new RecordingTimeProvider();
        await using var hub = await EmbeddedHub.StartAsync(configure: builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time));
            builder.Services.Replace(ServiceDescriptor.Singleton<IAgentChannel>(sp =>
                new RecordingChannel(new SignalRAgentChannel(sp.GetRequiredService<IHubContext<AicpHub>>(), sp.GetRequiredService<HubLifetimeManager<AicpHub>>()))));
        });
        var channel = (RecordingChannel)hub.Services.GetRequiredService<IAgentChannel>();
        var removed = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        hub.Services.GetRequiredService<AgentRegistry>().AgentRemoved += agent => removed.TryAdd(agent.AgentId, Stopwatch.GetTimestamp());
        var hubUrl = hub.BaseUrl.ToString();
        await using var submitter = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hubUrl });
        using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await submitter.ConnectAsync(connect.Token);
        }

        var disconnect = new List<DisconnectSample>();
        var timeout = new List<TimeoutSample>();
        var discarded = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60 + iterations * 10));
        for (var i = -warmup; i < iterations; i++)
        {
            var d = await DisconnectOnceAsync(hubUrl, submitter, channel, removed, $"fo-d{i + warmup}", deadline.Token);
            var t = await TimeoutOnceAsync(hubUrl, submitter, channel, time, $"fo-t{i + warmup}", timeoutMs, deadline.Token);
            if (i < 0)
            {
                continue;
            }

            if (d is not null)
            {
                disconnect.Add(d);
            }
            else
            {
                discarded++;
            }

            if (t is not null)
            {
                timeout.Add(t);
            }
            else
            {
                discarded++;
            }
        }

        var dropToB = LatencySummary.Of(disconnect.Select(s => s.AbortToBStartMs));
        var dropToRemoved = LatencySummary.Of(disconnect.Select(s => s.AbortToRemovedMs));
        var removedToSend = LatencySummary.Of(disconnect.Select(s => s.RemovedToSendMs));
        var firedToSend = LatencySummary.Of(timeout.Select(s => s.FiredToSendMs));
        var timerLate = LatencySummary.Of(timeout.Select(s => s.TimerLatenessMs));
        var agentView = LatencySummary.Of(timeout.Select(s => s.AgentViewMs));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                iterations,
                discarded,
                disconnect = new
                {
                    abortToRedispatchedP50Ms = dropToB.P50Ms, abortToRedispatchedP90Ms = dropToB.P90Ms, abortToRedispatchedMaxMs = dropToB.MaxMs,
                    abortToHubRemovedP50Ms = dropToRemoved.P50Ms, removedToSendP50Ms = removedToSend.P50Ms,
                },
                timeout = new
                {
                    timeoutMs, firedToSendP50Ms = firedToSend.P50Ms, firedToSendP90Ms = firedToSend.P90Ms, firedToSendMaxMs = firedToSend.MaxMs,
                    timerLatenessP50Ms = timerLate.P50Ms, agentViewP50Ms = agentView.P50Ms, agentViewP90Ms = agentView.P90Ms,
                },
                machine,
            }));
        }
        else
        {
            Console.WriteLine($"machine: {machine}");
            Console.WriteLine($"{iterations} iterations of each case after {warmup} warm-up ones; {discarded} discarded");
            Console.WriteLine("measure                                                      |  p50 ms |  p90 ms |  max ms");
            Row("disconnect: A's socket dropped -> B's handler starts", dropToB);
            Row("  of which: dropped -> hub removed A", dropToRemoved);
            Row("  of which: hub removed A -> Execute sent to B", removedToSend);
            Row($"timeout ({timeoutMs} ms): timer fired -> Execute sent to B (hub)", firedToSend);
            Row("  timer lateness: fired - (first Execute sent + timeout)", timerLate);
            Row("  agents' view: B start - (A start + timeout)", agentView);
            Console.WriteLine($"target: re-dispatch <= 50 ms after a drop: {(dropToB.P50Ms <= 50 ? "met" : "not met")} (p50 {dropToB.P50Ms:0.00} ms)");
            Console.WriteLine($"target: re-dispatch <= 5 ms after a timeout fires: {(firedToSend.P50Ms <= 5 ? "met" : "not met")} (p50 {firedToSend.P50Ms:0.00} ms)");
        }

        return 0;

        static void Row(string label, LatencySummary s) => Console.WriteLine($"{label,-60} | {s.P50Ms,7:0.00} | {s.P90Ms,7:0.00} | {s.MaxMs,7:0.00}");
    }

    private sealed record DisconnectSample(double AbortToBStartMs, double AbortToRemovedMs, double RemovedToSendMs);

    private sealed record TimeoutSample(double FiredToSendMs, double TimerLatenessMs, double AgentViewMs);

    private static async Task<DisconnectSample?> DisconnectOnceAsync(string hubUrl, AicpTaskClient submitter, RecordingChannel channel,
        ConcurrentDictionary<string, long> removed, string name, CancellationToken ct)
    {
        var method = $"bench.{name}";
        var aStarted = new TaskCompletionSource<(long At, string TaskId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = Agent(hubUrl, $"{name}-a", method, async (task, token) =>
        {
            aStarted.TrySetResult((Stopwatch.GetTimestamp(), task.TaskId));
            await Task.Delay(Timeout.Infinite, token);
            return task.Payload;
        });
        await using var b = Agent(hubUrl, $"{name}-b", method, (task, _) =>
        {
            bStarted.TrySetResult(Stopwatch.GetTimestamp());
            return ValueTask.FromResult(task.Payload);
        });
        await a.StartAsync(ct);
        var submit = submitter.SubmitAsync(method, Payloads.OfSize(16), new SubmitOptions { Timeout = TimeSpan.FromSeconds(30), MaxAttempts = 2 }, ct);
        var (_, taskId) = await aStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        await b.StartAsync(ct);

        var t0 = Stopwatch.GetTimestamp();
        await a.AbortAsync();
        var t1 = await bStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var result = await submit.WaitAsync(TimeSpan.FromSeconds(10), ct);
        if (result.Status != TaskStatuses.Completed || result.Attempts != 2
            || !removed.TryGetValue(a.AgentId, out var removedAt) || !channel.Sent.TryGetValue((taskId, 2), out var sentAt))
        {
            Console.Error.WriteLine($"[failover] {name}: unexpected outcome {result.Status} after {result.Attempts} attempts; sample discarded");
            return null;
        }

        return new DisconnectSample(Ms(t1 - t0), Ms(removedAt - t0), Ms(sentAt - removedAt));
    }

    private static async Task<TimeoutSample?> TimeoutOnceAsync(string hubUrl, AicpTaskClient submitter, RecordingChannel channel,
        RecordingTimeProvider time, string name, int timeoutMs, CancellationToken ct)
    {
        var method = $"bench.{name}";
        var aStarted = new TaskCompletionSource<(long At, string TaskId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bStarted = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = Agent(hubUrl, $"{name}-a", method, async (task, token) =>
        {
            aStarted.TrySetResult((Stopwatch.GetTimestamp(), task.TaskId));
            await Task.Delay(Timeout.Infinite, token); // silent until the hub cancels the attempt
            return task.Payload;
        });
        await using var b = Agent(hubUrl, $"{name}-b", method, (task, _) =>
        {
            bStarted.TrySetResult(Stopwatch.GetTimestamp());
            return ValueTask.FromResult(task.Payload);
        });
        await a.StartAsync(ct);
        var submit = submitter.SubmitAsync(method, Payloads.OfSize(16), new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(timeoutMs), MaxAttempts = 2 }, ct);
        var (aAt, taskId) = await aStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        await b.StartAsync(ct); // B must be registered before A's timer fires, or there is nobody to fail over to

        var result = await submit.WaitAsync(TimeSpan.FromSeconds(10), ct);
        if (result.Status != TaskStatuses.Completed || result.Attempts != 2 || !bStarted.Task.IsCompleted
            || !time.Fired.TryGetValue((taskId, 1), out var firedAt)
            || !channel.Sent.TryGetValue((taskId, 1), out var firstSent) || !channel.Sent.TryGetValue((taskId, 2), out var secondSent))
        {
            Console.Error.WriteLine($"[failover] {name}: unexpected outcome {result.Status} after {result.Attempts} attempts (B registered too late?); sample discarded");
            return null;
        }

        var bAt = await bStarted.Task;
        return new TimeoutSample(Ms(secondSent - firedAt), Ms(firedAt - firstSent) - timeoutMs, Ms(bAt - aAt) - timeoutMs);
    }

    private static AicpAgent Agent<TResponse>(string hubUrl, string id, string method, Func<AgentTaskContext, CancellationToken, ValueTask<TResponse>> handler)
    {
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl, AgentId = id, MaxConcurrency = 1, LoadReportInterval = TimeSpan.Zero,
        });
        agent.Handle(method, handler);
        return agent;
    }

    private static double Ms(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);

    /// <summary>Sends through the real channel; notes when each (task, attempt) Execute was handed to SignalR.</summary>
    private sealed class RecordingChannel(IAgentChannel inner) : IAgentChannel
    {
        public ConcurrentDictionary<(string TaskId, int Attempt), long> Sent { get; } = new();

        public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment)
        {
            Sent.TryAdd((assignment.TaskId, assignment.Attempt), Stopwatch.GetTimestamp());
            return inner.SendExecuteAsync(agent, assignment);
        }

        public Task SendCancelAsync(AgentState agent, string taskId) => inner.SendCancelAsync(agent, taskId);
    }

    /// <summary>The system clock, noting when each attempt's timeout timer fires (timers whose state is an <see cref="Attempt"/>).</summary>
    private sealed class RecordingTimeProvider : TimeProvider
    {
        public ConcurrentDictionary<(string TaskId, int Attempt), long> Fired { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (state is Attempt attempt)
            {
                return base.CreateTimer(s =>
                {
                    Fired.TryAdd((attempt.TaskId, attempt.Number), Stopwatch.GetTimestamp());
                    callback(s);
                }, state, dueTime, period);
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
