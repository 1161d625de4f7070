using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Sdk.Connection;

/// <summary>What agents and task clients say about their connection, and what typed calls throw.</summary>
public sealed class ConnectionStateTests
{

    [Fact]
    public async Task Agent_HubRestarts_ReconnectingThenReconnected_StopRaisesClosedOnce()
    {
        await using var h = await HubHarness.StartAsync();
        var events = new ConcurrentQueue<string>();
        var agent = h.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "phoenix", LoadReportInterval = TimeSpan.Zero,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        }));
        agent.Handle("image.label", (task, _) => ValueTask.FromResult(task.Payload));
        agent.Reconnecting += _ => Record(events, "reconnecting");
        agent.Reconnected += () => Record(events, "reconnected");
        agent.Closed += _ => Record(events, "closed");
        agent.Registered += ack => Record(events, ack.Accepted ? "registered" : "refused");
        Assert.Equal(AicpConnectionState.Disconnected, agent.State);

        await agent.StartAsync().DefaultTimeout();
        Assert.Equal(AicpConnectionState.Connected, agent.State);
        await h.RestartHubAsync();
        await TestTimeouts.Eventually(() => events.Contains("reconnected"), "the agent back on the new hub");
        Assert.Equal(AicpConnectionState.Connected, agent.State);
        Assert.NotNull(h.Registry.GetById("phoenix"));

        await agent.StopAsync().DefaultTimeout();
        await agent.StopAsync().DefaultTimeout();

        Assert.Equal(["registered", "reconnecting", "registered", "reconnected", "closed"], events);
        Assert.Equal(AicpConnectionState.Disconnected, agent.State);
    }

    private static Task Record(ConcurrentQueue<string> events, string what)
    {
        events.Enqueue(what);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Client_SeveralHubUrls_FirstNotListening_ConnectsToTheNext()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = h.Own(new AicpTaskClient(new AicpConnectionOptions
        {
            HubUrls = [$"http://127.0.0.1:{LoopbackPort.Free()}", h.Hub.BaseUrl.ToString()],
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        }));

        var result = await client.SubmitAsync("image.label", new { n = 1 }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(AicpConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Agent_CommaSeparatedHubUrl_NodeLost_ReRegistersOnTheNext()
    {
        await using var first = await HubHarness.StartAsync();
        await using var second = await HubHarness.StartAsync();
        var agent = second.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = $"{first.Hub.BaseUrl}, {second.Hub.BaseUrl}", AgentId = "a1",
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(100),
        }).Handle("image.label", (_, _) => ValueTask.FromResult(1)));
        await agent.StartAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => first.Registry.GetById("a1") is not null, "a1 on the first node");

        await first.Hub.DisposeAsync(); // the node goes away

        await TestTimeouts.Eventually(() => second.Registry.GetById("a1") is not null, "a1 re-registered on the second node");
        var client = await second.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_HubGoesAwayWhileTheTaskIsPending_ConnectionLostWithUnknownOutcome()
    {
        await using var h = await HubHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("slow", async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var client = await h.StartClientAsync();

        var pending = client.SubmitAsync("image.label", null);
        await started.Task.DefaultTimeout();
        await h.Hub.DisposeAsync(); // the node dies with the task in flight

        var lost = await Assert.ThrowsAsync<AicpConnectionLostException>(() => pending.DefaultTimeout());
        Assert.Contains("outcome is unknown", lost.Message);
        Assert.True(lost.InnerException is OperationCanceledException or System.Net.WebSockets.WebSocketException, lost.InnerException?.ToString());
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", new[] { "http://127.0.0.1:5000/aicp" })]
    [InlineData("http://a:5000, ws://b:5001/custom", new[] { "http://a:5000/aicp", "ws://b:5001/custom" })]
    public void ResolveEndpoints_CommaSeparatedHubUrl_EachNodeInOrder(string hubUrl, string[] expected) =>
        Assert.Equal(expected, new AicpConnectionOptions { HubUrl = hubUrl }.ResolveEndpoints().Select(u => u.ToString()));

    [Fact]
    public void ValidateConnection_CommaSeparatedHubUrl_EachChecked() =>
        Assert.Equal(["Hub URL 'ftp://b' is not an absolute http, https, ws or wss URL."],
            new AicpConnectionOptions { HubUrl = "http://a:5000,ftp://b" }.ValidateConnection());

    [Fact]
    public async Task SubmitTyped_NoAgentOrAgentError_ThrowsWithStatusCodeAndRoute()
    {
        await using var h = await HubHarness.StartAsync();
        var client = await h.StartClientAsync();

        var noAgents = await Assert.ThrowsAsync<AicpTaskFailedException>(() => client.SubmitAsync<int, int>("nobody.home", 1).DefaultTimeout());
        Assert.Equal((AicpTaskStatus.NoAgents, ErrorCodes.NoAgents), (noAgents.Status, noAgents.Code));

        await h.StartAgentAsync("broken", (_, _) => throw new AgentTaskException("model_error", "weights missing"));
        var failed = await Assert.ThrowsAsync<AicpTaskFailedException>(() =>
            client.SubmitAsync<int, int>("image.label", 1, new SubmitOptions { MaxAttempts = 1 }).DefaultTimeout());
        Assert.Equal(AicpTaskStatus.Failed, failed.Status);
        Assert.Equal("model_error", Assert.Single(failed.Route).Error!.Code);
        Assert.Contains("weights missing", failed.Message);
    }

    public sealed record Point(int X, int Y);

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task TypedHandler_PayloadThatDoesNotBind_FailsInvalidPayload(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        var agent = h.Own(new AicpAgent(new AgentOptions { HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "typed", Protocol = protocol }));
        agent.Handle<Point, int>("geo.sum", (point, _, _) => ValueTask.FromResult(point.X + point.Y));
        await agent.StartAsync().DefaultTimeout();
        var client = await h.StartClientAsync();

        Assert.Equal(5, await client.SubmitAsync<Point, int>("geo.sum", new Point(2, 3)).DefaultTimeout());
        var result = await client.SubmitAsync("geo.sum", JsonDocument.Parse("""{"x":"two"}""").RootElement, new SubmitOptions { MaxAttempts = 1 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.InvalidPayload, result.Error!.Code);
    }

    [Fact]
    public async Task DisposeTwice_AgentAndClient_SecondIsANoOp()
    {
        await using var h = await HubHarness.StartAsync();
        var agent = new AicpAgent(new AgentOptions { HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "twice" });
        agent.Handle("image.label", (task, _) => ValueTask.FromResult(task.Payload));
        await agent.StartAsync().DefaultTimeout();
        var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString() });
        await client.ConnectAsync().DefaultTimeout();

        await agent.DisposeAsync();
        await agent.DisposeAsync();
        await client.DisposeAsync();
        await client.DisposeAsync();

        Assert.Equal(AicpConnectionState.Disconnected, agent.State);
        Assert.Equal(AicpConnectionState.Disconnected, client.State);
        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "the agent gone");
    }
}
