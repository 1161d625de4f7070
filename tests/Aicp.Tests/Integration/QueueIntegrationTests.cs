using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>The bounded wait for a free agent slot.</summary>
public sealed class QueueIntegrationTests
{
    [Fact]
    public async Task Submit_QueueFull_OverloadedAtOnce()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:MaxQueuedTasksPerCapability"] = "2" });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("one", async (_, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return JsonSerializer.SerializeToElement(1);
        }, maxConcurrency: 1);
        var client = await h.StartClientAsync();
        var running = client.SubmitAsync("image.label", null);
        var queued = new[] { client.SubmitAsync("image.label", null), client.SubmitAsync("image.label", null) };
        await TestTimeouts.Eventually(() => h.Registry.GetPool("image.label")!.Waiters.Count == 2, "two tasks queued");

        var refused = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Overloaded, refused.Status);
        Assert.Equal(ErrorCodes.Overloaded, refused.Error?.Code);

        gate.SetResult();
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        Assert.All(await Task.WhenAll(queued).DefaultTimeout(), r => Assert.Equal(TaskStatuses.Completed, r.Status));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_NoSlotBeforeDeadline_TimeoutWithQueueTimeoutCode()
    {
        await using var h = await HubHarness.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("one", async (_, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return JsonSerializer.SerializeToElement(1);
        }, maxConcurrency: 1);
        var client = await h.StartClientAsync();
        var running = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(10_000) });
        await TestTimeouts.Eventually(() => h.Registry.GetById("one")!.Pending == 1, "the first task running");

        var waited = await client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(200) }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, waited.Status);
        Assert.Equal(ErrorCodes.QueueTimeout, waited.Error?.Code);
        Assert.Equal(0, waited.Attempts);
        Assert.Equal(0, h.Registry.GetPool("image.label")!.Waiters.Count);

        gate.SetResult();
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_WaitingWhenLastAgentLeaves_EndsWithoutWaitingForDeadline()
    {
        await using var h = await HubHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var agent = await h.StartAgentAsync("only", async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        }, maxConcurrency: 1);
        var client = await h.StartClientAsync();
        var first = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(60_000) });
        await started.Task.DefaultTimeout();
        var second = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(60_000) });
        await TestTimeouts.Eventually(() => h.Registry.GetPool("image.label")?.Waiters.Count == 1, "the second task queued");

        await agent.AbortAsync().DefaultTimeout();

        var results = await Task.WhenAll(first, second).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, results[0].Status);
        Assert.Equal(ErrorCodes.AgentDisconnected, results[0].Error?.Code);
        Assert.Equal(TaskStatuses.NoAgents, results[1].Status);
        await h.AssertNothingPendingAsync();
    }
}
