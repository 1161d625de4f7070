using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>Hedged requests, deadlines and the retry budget with real agents and a real submitter on loopback; once per wire protocol.</summary>
public abstract class ResilienceIntegrationTests
{
    private const string Method = "image.label";

    protected abstract HubProtocol Protocol { get; }

    private Task<HubHarness> StartHarnessAsync(IDictionary<string, string?>? settings = null) =>
        HubHarness.StartAsync(settings, protocol: Protocol);

    /// <summary>A handler that signals when it runs and waits until the hub cancels it.</summary>
    private static Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> UntilCancelled(TaskCompletionSource running, TaskCompletionSource cancelled) => async (_, ct) =>
    {
        using var registration = ct.Register(() => cancelled.TrySetResult());
        running.TrySetResult();
        await Task.Delay(Timeout.Infinite, ct);
        return default;
    };

    [Fact]
    public async Task Submit_IdempotentCapabilityFirstAgentStalls_HedgeAnswersStalledOneCancelledOneResult()
    {
        await using var h = await StartHarnessAsync(new Dictionary<string, string?>
        {
            ["Aicp:Hedging:Capabilities:0"] = Method,
            ["Aicp:Hedging:Delay"] = "00:00:00.500",
            ["Aicp:Hedging:BudgetRatio"] = "1",
        });
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("stalled", UntilCancelled(running, cancelled));
        var client = await h.StartClientAsync();
        var submitted = client.SubmitAsync(Method, new { image = 1 });
        await running.Task.DefaultTimeout();
        await h.StartAgentAsync("quick", HubHarness.Echo("quick")); // registered well before the 500 ms hedge delay

        var result = await submitted.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("quick", result.AgentId);
        Assert.Equal(2, result.Attempts);
        var hedge = Assert.Single(result.Route, r => r.Hedge == true);
        Assert.Equal(("quick", AttemptOutcomes.Completed), (hedge.AgentId, hedge.Outcome));
        var superseded = Assert.Single(result.Route, r => r.Outcome == AttemptOutcomes.Superseded);
        Assert.Equal("stalled", superseded.AgentId);
        Assert.Equal(ErrorCodes.Superseded, superseded.Error?.Code);
        await cancelled.Task.DefaultTimeout(); // the stalled agent got Cancel
        await h.AssertNothingPendingAsync();
        var stats = h.Counters.Snapshot();
        Assert.Equal((1L, 1L, 1L, 0L), (stats["hedges"], stats["hedgesWon"], stats[TaskStatuses.Completed], stats["failovers"]));
    }

    [Fact]
    public async Task Submit_ManyTasksOnAHedgedCapability_EachGetsExactlyOneResult()
    {
        await using var h = await StartHarnessAsync(new Dictionary<string, string?>
        {
            ["Aicp:Hedging:Capabilities:0"] = Method,
            ["Aicp:Hedging:Delay"] = "00:00:00.020",
            ["Aicp:Hedging:BudgetRatio"] = "1",
        });
        foreach (var id in new[] { "a1", "a2", "a3" })
        {
            // every fourth task is slow wherever it runs: hedges race real answers on both sides
            await h.StartAgentAsync(id, async (task, ct) =>
            {
                var seq = task.Payload!.Json.GetProperty("seq").GetInt32();
                await Task.Delay(seq % 4 == 0 ? 60 : 1, ct);
                return JsonSerializer.SerializeToElement(new { seq });
            });
        }

        var client = await h.StartClientAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(seq => client.SubmitAsync(Method, new { seq }))).DefaultTimeout();
        for (var seq = 0; seq < results.Length; seq++)
        {
            Assert.Equal(TaskStatuses.Completed, results[seq].Status);
            Assert.Equal(seq, results[seq].Result!.Json.GetProperty("seq").GetInt32());
        }

        await h.AssertNothingPendingAsync();
        var stats = h.Counters.Snapshot();
        Assert.Equal(200, stats[TaskStatuses.Completed]);
        Assert.True(stats["hedges"] > 0, "no task was hedged");
    }

    [Fact]
    public async Task Submit_DeadlineShorterThanTheAgentsPace_DeadlineUnreachableAtOnce()
    {
        await using var h = await StartHarnessAsync();
        await h.StartAgentAsync("steady", async (_, ct) =>
        {
            await Task.Delay(300, ct); // the agent's own pace, not a wait in the test
            return JsonSerializer.SerializeToElement("done");
        });
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync(Method, null).DefaultTimeout()).Status);

        var refused = await client.SubmitAsync(Method, null, new SubmitOptions { Deadline = TimeSpan.FromMilliseconds(50) }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, refused.Status);
        Assert.Equal(ErrorCodes.DeadlineUnreachable, refused.Error?.Code);
        Assert.Equal(0, refused.Attempts);
        Assert.Empty(refused.Route);
        Assert.True(refused.LatencyMs < 300, $"refused after {refused.LatencyMs} ms");

        var accepted = await client.SubmitAsync(Method, null, new SubmitOptions { Deadline = TimeSpan.FromMilliseconds(5_000) }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, accepted.Status);
    }

    [Fact]
    public async Task Submit_DeadlinePassesWhileWaitingForASlot_DeadlineExceededNeverSent()
    {
        await using var h = await StartHarnessAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        await h.StartAgentAsync("single", async (_, ct) =>
        {
            Interlocked.Increment(ref started);
            await gate.Task.WaitAsync(ct);
            return JsonSerializer.SerializeToElement("done");
        }, maxConcurrency: 1);
        var client = await h.StartClientAsync();
        var occupying = client.SubmitAsync(Method, null);
        await TestTimeouts.Eventually(() => Volatile.Read(ref started) == 1, "the first task running");

        var expired = await client.SubmitAsync(Method, null, new SubmitOptions { Deadline = TimeSpan.FromMilliseconds(300), Timeout = TimeSpan.FromMilliseconds(10_000) }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, expired.Status);
        Assert.Equal(ErrorCodes.DeadlineExceeded, expired.Error?.Code);
        Assert.Equal(0, expired.Attempts);

        gate.SetResult();
        Assert.Equal(TaskStatuses.Completed, (await occupying.DefaultTimeout()).Status);
        Assert.Equal(1, Volatile.Read(ref started)); // the expired task never reached the agent
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_FailoverDueButRetryBudgetSpent_FailedWithBudgetCode()
    {
        await using var h = await StartHarnessAsync(new Dictionary<string, string?>
        {
            ["Aicp:RetryBudget:Ratio"] = "0",
            ["Aicp:RetryBudget:MinPerSecond"] = "0",
        });
        foreach (var id in new[] { "broken1", "broken2" })
        {
            await h.StartAgentAsync(id, (_, _) => throw new AgentTaskException("model_error", "no model"));
        }

        var client = await h.StartClientAsync();
        var result = await client.SubmitAsync(Method, null, new SubmitOptions { MaxAttempts = 3 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.RetryBudgetExhausted, result.Error?.Code);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("model_error", Assert.Single(result.Route).Error?.Code);
        await h.AssertNothingPendingAsync();
        Assert.Equal(1, h.Counters.Snapshot()["retryBudgetExhausted"]);
    }
}

public sealed class JsonResilienceIntegrationTests : ResilienceIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.Json;
}

public sealed class MessagePackResilienceIntegrationTests : ResilienceIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.MessagePack;
}
