using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>
/// Misbehaving agents over real sockets: garbage completions, oversize results, and many agents flapping.
/// (Agent killed mid-task, hub restart, silent agent and submitter loss are in <see cref="DispatchIntegrationTests"/>.)
/// </summary>
public sealed class FaultIntegrationTests
{
    [Fact]
    public async Task Complete_GarbageFromRawAgent_IgnoredThenInvalidFrameClosesItAndTaskFailsOver()
    {
        await using var h = await HubHarness.StartAsync();
        await using var garbage = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);
        await garbage.InvokeAsync(HubMethods.Register, "r", new AgentRegistration { AgentId = "garbage", Capabilities = ["image.label"] });
        Assert.True((await garbage.CompletionAsync("r")).GetProperty("result").GetProperty("accepted").GetBoolean());

        var client = await h.StartClientAsync();
        var submitted = client.SubmitAsync("image.label", new { n = 1 }, new SubmitOptions { MaxAttempts = 2 });
        var execute = (await garbage.InvocationAsync(HubMethods.Execute)).GetProperty("arguments")[0];
        await h.StartAgentAsync("good", HubHarness.Echo("good"));

        // Wrong types: the hub cannot bind the arguments and says so; the connection stays up.
        await garbage.InvokeAsync(HubMethods.Complete, "c1", new { taskId = 5, attempt = "one", ok = "yes" });
        Assert.True((await garbage.CompletionAsync("c1")).TryGetProperty("error", out _));

        // Well-typed but for a task or attempt this connection does not hold: discarded and counted.
        await garbage.InvokeAsync(HubMethods.Complete, "c2", new TaskCompletion { TaskId = "no-such-task", Attempt = 1, Ok = true });
        await garbage.InvokeAsync(HubMethods.Complete, "c3", new TaskCompletion { TaskId = execute.GetProperty("taskId").GetString()!, Attempt = 7, Ok = true });
        await garbage.CompletionAsync("c3");
        Assert.Equal(2, h.Counters.LateCompletions);
        Assert.True(garbage.IsOpen);
        Assert.False(submitted.IsCompleted);

        // A frame that is not JSON closes that connection only; its attempt fails over.
        await garbage.SendRecordAsync("{\"type\":1,\"target\":\"Complete\",\"arguments\":[{\"taskId\":");
        await garbage.Closed.DefaultTimeout();

        var result = await submitted.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("good", result.AgentId);
        Assert.Equal([AttemptOutcomes.Disconnected, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        await h.AssertNothingPendingAsync();
    }

    [Theory]
    [InlineData("4096", 8_000, 1)] // over Aicp:Security:MaxResultBytes: the hub closes the connection
    [InlineData(null, 1_200_000, 0)] // over the SignalR frame limit: SignalR closes the connection
    public async Task Complete_ResultOverLimit_ConnectionClosedAndTaskFailsOver(string? maxResultBytes, int resultChars, int oversizeCounted)
    {
        await using var h = await HubHarness.StartAsync(maxResultBytes is null ? null : new Dictionary<string, string?> { ["Aicp:Security:MaxResultBytes"] = maxResultBytes });
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fat = await h.StartAgentAsync("fat", async (task, _) =>
        {
            running.TrySetResult();
            await release.Task;
            return JsonSerializer.SerializeToElement(new string('x', resultChars));
        });
        var fatConnection = h.Registry.GetById("fat")!.ConnectionId;
        var client = await h.StartClientAsync();
        var submitted = client.SubmitAsync("image.label", null, new SubmitOptions { MaxAttempts = 2 });
        await running.Task.DefaultTimeout();
        await h.StartAgentAsync("slim", HubHarness.Echo("slim"));
        release.SetResult();

        var result = await submitted.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("slim", result.AgentId);
        Assert.Equal([AttemptOutcomes.Disconnected, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(oversizeCounted, h.Counters.OversizeResults);
        Assert.NotEqual(fatConnection, h.Registry.GetById("fat")?.ConnectionId); // its connection was closed
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_TenAgentsFlapping_EveryTaskOneResultAndCountsBackToZero()
    {
        const int Tasks = 400;
        await using var h = await HubHarness.StartAsync();
        var agents = new AicpAgent?[10];
        for (var i = 0; i < agents.Length; i++)
        {
            agents[i] = await StartFlapperAsync(h, i);
        }

        var clients = new[] { await h.StartClientAsync(), await h.StartClientAsync() };
        using var done = new CancellationTokenSource();
        var flaps = 0;
        var flapping = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!done.IsCancellationRequested)
            {
                var i = random.Next(agents.Length);
                var victim = agents[i]!;
                await victim.AbortAsync().DefaultTimeout();
                await victim.DisposeAsync().AsTask().DefaultTimeout();
                agents[i] = await StartFlapperAsync(h, i);
                flaps++;
                await Task.Delay(random.Next(5, 30)); // pacing between flaps, not a wait for an event
            }
        });

        var results = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(n =>
            clients[n % 2].SubmitAsync("image.label", new { n }, new SubmitOptions { MaxAttempts = 10, Timeout = TimeSpan.FromMilliseconds(5_000) }))).WaitAsync(TimeSpan.FromSeconds(60));
        done.Cancel();
        await flapping.WaitAsync(TestTimeouts.Default);

        Assert.True(flaps >= 3, $"only {flaps} flaps happened while tasks ran");
        Assert.Equal(Tasks, results.Length);
        Assert.Equal(Tasks, results.Select(r => r.TaskId).Distinct().Count());
        Assert.All(results, r => Assert.Contains(r.Status, new[] { TaskStatuses.Completed, TaskStatuses.Failed, TaskStatuses.NoAgents }));
        Assert.All(results.Where(r => r.Status == TaskStatuses.Completed), r => Assert.Equal(r.AgentId, r.Result!.Json.GetProperty("agent").GetString()));
        Assert.True(results.Count(r => r.Status == TaskStatuses.Completed) > Tasks / 2);
        var snapshot = h.Counters.Snapshot();
        Assert.Equal(Tasks, h.Counters.Submitted);
        Assert.Equal(Tasks, snapshot[TaskStatuses.Completed] + snapshot[TaskStatuses.Failed] + snapshot[TaskStatuses.NoAgents]);
        await h.AssertNothingPendingAsync();
        foreach (var agent in agents)
        {
            await agent!.DisposeAsync().AsTask().DefaultTimeout();
        }
    }

    private static async Task<AicpAgent> StartFlapperAsync(HubHarness h, int i)
    {
        var id = $"flap-{i}";
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = id, MaxConcurrency = 4,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        agent.Handle("image.label", async (task, ct) =>
        {
            await Task.Delay(Random.Shared.Next(1, 6), ct);
            return JsonSerializer.SerializeToElement(new { agent = id });
        });
        await agent.StartAsync().DefaultTimeout();
        return agent;
    }
}
