using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>The hub, real agents and a real submitter over WebSockets on loopback; run once per wire protocol.</summary>
public abstract class DispatchIntegrationTests
{
    /// <summary>The wire protocol agents and clients speak in this run.</summary>
    protected abstract HubProtocol Protocol { get; }

    private Task<HubHarness> StartHarnessAsync(IDictionary<string, string?>? settings = null) =>
        HubHarness.StartAsync(settings, protocol: Protocol);

    [Fact]
    public async Task Submit_RoundRobinOverThreeAgents_ExactlyAThirdEach()
    {
        await using var h = await StartHarnessAsync();
        foreach (var id in new[] { "a1", "a2", "a3" })
        {
            await h.StartAgentAsync(id, HubHarness.Echo(id));
        }

        var client = await h.StartClientAsync();
        var perAgent = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var result = await client.SubmitAsync("image.label", new { i }, new SubmitOptions { Strategy = new RoutingStrategy("round-robin") }).DefaultTimeout();
            Assert.Equal(TaskStatuses.Completed, result.Status);
            perAgent[result.AgentId!] = perAgent.GetValueOrDefault(result.AgentId!) + 1;
        }

        Assert.Equal(new Dictionary<string, int> { ["a1"] = 100, ["a2"] = 100, ["a3"] = 100 }, perAgent);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_LeastLoadedWithOneBusyAgent_AvoidsTheBusyAgent()
    {
        await using var h = await StartHarnessAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        await h.StartAgentAsync("busy", async (task, ct) =>
        {
            Interlocked.Increment(ref started);
            await gate.Task.WaitAsync(ct);
            return JsonSerializer.SerializeToElement("busy");
        });
        var client = await h.StartClientAsync();
        var blocked = Enumerable.Range(0, 3).Select(_ => client.SubmitAsync("image.label", null, new SubmitOptions { Strategy = new RoutingStrategy("least-loaded") })).ToList();
        await TestTimeouts.Eventually(() => Volatile.Read(ref started) == 3, "three tasks running on the busy agent");

        await h.StartAgentAsync("idle", HubHarness.Echo("idle"));
        for (var i = 0; i < 20; i++)
        {
            var result = await client.SubmitAsync("image.label", null, new SubmitOptions { Strategy = new RoutingStrategy("least-loaded") }).DefaultTimeout();
            Assert.Equal("idle", result.AgentId);
        }

        gate.SetResult();
        Assert.All(await Task.WhenAll(blocked).DefaultTimeout(), r => Assert.Equal(TaskStatuses.Completed, r.Status));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AdaptiveThreeParallelAgentsOneFortyTimesSlower_SlowOneGetsAlmostNothingEqualOnesShare()
    {
        // No slow start: the agents' answers count in full from the first one (during a slow start they count for less,
        // so an agent's first answers cannot price it out, and a slow one keeps a few percent for those seconds).
        await using var h = await StartHarnessAsync(new Dictionary<string, string?> { ["Aicp:Health:SlowStartWindow"] = "00:00:00" });
        // Warm the process (JIT, pools) on another capability first: the agents below share this process and its two
        // cores, and the first answers after a cold start are slow for reasons that are not the agent's.
        await h.StartAgentAsync("warm", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement("warm")), maxConcurrency: 32, method: "warm.up");
        var warmer = await h.StartClientAsync();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => warmer.SubmitAsync("warm.up", new { i }))).DefaultTimeout();

        // 40 times slower: on a loaded machine a 5 ms delay can take tens of milliseconds, which must not make the quick
        // agents look as slow as the slow one.
        foreach (var (id, ms) in new[] { ("quick1", 5), ("quick2", 5), ("slow", 200) })
        {
            // each agent runs up to 32 tasks side by side at its own pace
            await h.StartAgentAsync(id, async (_, ct) =>
            {
                await Task.Delay(ms, ct);
                return JsonSerializer.SerializeToElement(id);
            }, maxConcurrency: 32);
        }

        var client = await h.StartClientAsync();
        async Task<ConcurrentDictionary<string, int>> RunAsync(int tasks)
        {
            var perAgent = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            using var window = new SemaphoreSlim(16);
            await Task.WhenAll(Enumerable.Range(0, tasks).Select(async i =>
            {
                await window.WaitAsync();
                try
                {
                    var result = await client.SubmitAsync("image.label", new { i });
                    Assert.Equal(TaskStatuses.Completed, result.Status);
                    perAgent.AddOrUpdate(result.AgentId!, 1, (_, n) => n + 1);
                }
                finally
                {
                    window.Release();
                }
            })).DefaultTimeout();
            return perAgent;
        }

        // Until its first answers come back the hub knows nothing about the slow agent, and it gets its share of the
        // first tasks; after that (within this run, before its evidence fades and it is probed again) almost nothing.
        await RunAsync(100);
        var measured = await RunAsync(300);
        var slow = measured.GetValueOrDefault("slow");
        var split = string.Join(", ", measured.Select(p => $"{p.Key}={p.Value}"));
        Assert.True(slow <= 3, $"the slow agent got {slow} of 300 tasks ({split})");
        // The two equal agents share the work rather than one of them taking it all (no herding).
        Assert.True(Math.Min(measured.GetValueOrDefault("quick1"), measured.GetValueOrDefault("quick2")) >= 30, $"the quick agents did not share ({split})");
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AgentKilledMidTask_CompletesOnAnotherAgentWithTwoAttempts()
    {
        await using var h = await StartHarnessAsync();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomed = await h.StartAgentAsync("doomed", async (task, ct) =>
        {
            running.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var client = await h.StartClientAsync();
        var submitted = client.SubmitAsync("image.label", new { image = "x" });
        await running.Task.DefaultTimeout();

        await h.StartAgentAsync("survivor", HubHarness.Echo("survivor"));
        await doomed.AbortAsync().DefaultTimeout();

        var result = await submitted.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("survivor", result.AgentId);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Disconnected, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(1, h.Counters.Failovers);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AgentNeverAnswers_TimesOutAndFailsOverAndCancelsTheFirst()
    {
        await using var h = await StartHarnessAsync();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("silent", async (task, ct) =>
        {
            using var _ = ct.Register(() => cancelled.TrySetResult());
            running.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var client = await h.StartClientAsync();
        var submitted = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(400) });
        await running.Task.DefaultTimeout();
        await h.StartAgentAsync("answers", HubHarness.Echo("answers"));

        var result = await submitted.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("answers", result.AgentId);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(AttemptOutcomes.Timeout, result.Route[0].Outcome);
        await cancelled.Task.DefaultTimeout();
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_NoAgentForMethod_NoAgentsAtOnce()
    {
        await using var h = await StartHarnessAsync();
        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("text.summarize", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.NoAgents, result.Status);
        Assert.Equal(ErrorCodes.NoAgents, result.Error?.Code);
        Assert.Equal(0, result.Attempts);
    }

    [Theory]
    [InlineData("warp-speed", null, null, ErrorCodes.UnknownStrategy)]
    [InlineData(null, 0, null, ErrorCodes.InvalidTimeout)]
    [InlineData(null, 600_001, null, ErrorCodes.InvalidTimeout)]
    [InlineData(null, null, 11, ErrorCodes.InvalidMaxAttempts)]
    public async Task Submit_InvalidRequest_RejectedWithCode(string? strategy, int? timeoutMs, int? maxAttempts, string code)
    {
        await using var h = await StartHarnessAsync();
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("image.label", null, new SubmitOptions
        {
            Strategy = strategy is null ? null : new RoutingStrategy(strategy),
            Timeout = timeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            MaxAttempts = maxAttempts,
        }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(code, result.Error?.Code);
        Assert.False(string.IsNullOrWhiteSpace(result.Error?.Message));
    }

    [Fact]
    public async Task Submit_InvalidMethodName_RejectedInvalidMethod()
    {
        await using var h = await StartHarnessAsync();
        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("Image Label!", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(ErrorCodes.InvalidMethod, result.Error?.Code);
    }

    [Fact]
    public async Task Complete_AfterTheHubGaveUp_DiscardedAndCounted()
    {
        await using var h = await StartHarnessAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("slow", async (task, _) =>
        {
            await release.Task; // answers only after the hub gave up, ignoring the hub's Cancel on purpose
            return JsonSerializer.SerializeToElement("late");
        });
        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(150), MaxAttempts = 1 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.AgentTimeout, result.Error?.Code);

        release.SetResult();
        await TestTimeouts.Eventually(() => h.Counters.LateCompletions == 1, "the late completion to be counted");
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AgentReportsError_FailsOverThenFailedWhenAllError()
    {
        await using var h = await StartHarnessAsync();
        await h.StartAgentAsync("bad1", (_, _) => throw new Aicp.Agent.Sdk.Agent.AgentTaskException("model_error", "the model failed"));
        await h.StartAgentAsync("bad2", (_, _) => throw new Aicp.Agent.Sdk.Agent.AgentTaskException("model_error", "the model failed"));
        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("image.label", null, new SubmitOptions { MaxAttempts = 3 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(2, result.Attempts); // only two distinct agents exist
        Assert.All(result.Route, r => Assert.Equal(AttemptOutcomes.Error, r.Outcome));
        Assert.Equal("model_error", result.Error?.Code);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AgentAtMaxConcurrency_ReceivesNoMoreAndQueuedTasksRunLater()
    {
        await using var h = await StartHarnessAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = 0;
        var peak = 0;
        var agent = await h.StartAgentAsync("narrow", async (task, ct) =>
        {
            var now = Interlocked.Increment(ref current);
            InterlockedMax(ref peak, now);
            await gate.Task.WaitAsync(ct);
            Interlocked.Decrement(ref current);
            return JsonSerializer.SerializeToElement("ok");
        }, maxConcurrency: 2);
        var client = await h.StartClientAsync();
        var tasks = Enumerable.Range(0, 6).Select(_ => client.SubmitAsync("image.label", null)).ToList();
        await TestTimeouts.Eventually(() => Volatile.Read(ref current) == 2, "two tasks running");
        await TestTimeouts.Eventually(() => h.Registry.GetPool("image.label")!.Waiters.Count == 4, "four tasks queued at the hub");
        Assert.Equal(2, h.Registry.GetById("narrow")!.Pending);

        gate.SetResult();
        var results = await Task.WhenAll(tasks).DefaultTimeout();
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.Equal(2, peak);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Agent_HubRestarted_ReconnectsReRegistersAndServes()
    {
        await using var h = await StartHarnessAsync();
        var agent = await h.StartAgentAsync("phoenix", HubHarness.Echo("phoenix"));
        var registrations = 0;
        agent.Registered += _ =>
        {
            Interlocked.Increment(ref registrations);
            return Task.CompletedTask;
        };

        await h.RestartHubAsync();
        // The hub records the agent before its acknowledgement reaches the agent: wait for both sides.
        await TestTimeouts.Eventually(() => h.Registry.GetById("phoenix") is not null && Volatile.Read(ref registrations) >= 1,
            "the agent to re-register on the new hub and see it accepted");

        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("phoenix", result.AgentId);
    }

    [Fact]
    public async Task Submit_ManyConcurrentOnOneConnection_AllCompleteWithoutSerializing()
    {
        await using var h = await StartHarnessAsync();
        var inside = 0;
        var peak = 0;
        await h.StartAgentAsync("wide", async (task, ct) =>
        {
            InterlockedMax(ref peak, Interlocked.Increment(ref inside));
            await Task.Delay(50, ct);
            Interlocked.Decrement(ref inside);
            return JsonSerializer.SerializeToElement(1);
        }, maxConcurrency: 32);
        var client = await h.StartClientAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => client.SubmitAsync("image.label", null))).DefaultTimeout();
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.True(peak > 1, $"submits on one connection ran one at a time (peak {peak})");
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_SubmitterDisconnects_AgentGetsCancelAndCountRestored()
    {
        await using var h = await StartHarnessAsync();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("worker", async (task, ct) =>
        {
            using var _ = ct.Register(() => cancelled.TrySetResult());
            running.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var client = await h.StartClientAsync();
        _ = client.SubmitAsync("image.label", null);
        await running.Task.DefaultTimeout();
        await client.AbortAsync().DefaultTimeout();

        await cancelled.Task.DefaultTimeout();
        await h.AssertNothingPendingAsync();
        await TestTimeouts.Eventually(() => h.Counters.Snapshot()[TaskStatuses.Cancelled] == 1, "the task to end cancelled");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

public sealed class JsonDispatchIntegrationTests : DispatchIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.Json;
}

public sealed class MessagePackDispatchIntegrationTests : DispatchIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.MessagePack;
}

/// <summary>Requests that only a hand-written client sends.</summary>
public sealed class RawRequestIntegrationTests
{
    [Fact]
    public async Task Submit_NullRequest_RejectedWithTypedError()
    {
        await using var h = await HubHarness.StartAsync();
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);

        await socket.InvokeAsync(HubMethods.Submit, "1", [null]);
        var completion = await socket.CompletionAsync("1");

        Assert.False(completion.TryGetProperty("error", out _), completion.ToString());
        var result = completion.GetProperty("result");
        Assert.Equal(TaskStatuses.Rejected, result.GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.InvalidMethod, result.GetProperty("error").GetProperty("code").GetString());
    }
}
