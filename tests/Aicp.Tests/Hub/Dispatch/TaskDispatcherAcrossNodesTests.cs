using Aicp.Hub.Cluster;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static Aicp.Tests.Infrastructure.FakeClusterPeers;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// The choice between this node's agent (the capability's strategy) and another node's (the remote proposal) on a
/// scripted cluster view: the remote agent only when its load share is strictly lower, ties and lower local shares
/// local; local-first with <c>Aicp:Cluster:PreferLocal</c>; never remote on a hub that is not a node of a cluster.
/// </summary>
public sealed class TaskDispatcherAcrossNodesTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();
    private readonly FakeClusterPeers _cluster = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions? options = null, FakeClusterPeers? cluster = null)
    {
        var wrapped = Options.Create(options ?? new AicpHubOptions());
        var registry = new AgentRegistry(wrapped, _time);
        var dispatcher = new TaskDispatcher(registry, new RoutingStrategyCatalog(RoutingFixture.AllStrategies()), _channel, _time, new DefaultRandomSource(1),
            wrapped, NullLogger<TaskDispatcher>.Instance, TestTelemetry.Create(registry, _time), rules: null, new RemoteAgents(cluster ?? _cluster, _time));
        return (dispatcher, registry);
    }

    /// <summary>
    /// This node's agent "here" (maxConcurrency 2) runs <paramref name="localPending"/> tasks; node-2's agent "there" is
    /// published with <paramref name="remotePending"/> of <paramref name="remoteMax"/>. Where does the next task go?
    /// </summary>
    private async Task<string> NextTaskGoesToAsync(int localPending, int remotePending, int remoteMax, AicpHubOptions? options = null,
        FakeClusterPeers? cluster = null, bool localCircuitOpen = false, double? localLatencyMs = null)
    {
        var (dispatcher, registry) = Create(options, cluster);
        var here = registry.Register("c-here", "here", [Method], 2, new Dictionary<string, string>()).Agent;
        if (localLatencyMs is { } latency)
        {
            for (var i = 0; i < 20; i++)
            {
                here.RecordCompletion(Method, latency, ok: true, _time.GetUtcNow());
            }

            Assert.Equal(latency, here.LatencyMs(Method, _time.GetTimestamp()), 6);
        }

        if (localCircuitOpen)
        {
            for (var i = 0; i < AgentHealthDefaults.ConsecutiveFailures; i++)
            {
                here.RecordCompletion(Method, 5, ok: false, _time.GetUtcNow());
            }

            Assert.Equal(CircuitState.Open, here.Circuit.StateAt(_time.GetTimestamp()));
        }

        var held = Enumerable.Range(0, localPending).Select(_ => dispatcher.SubmitAsync(DispatcherFixture.Request(), CancellationToken.None)).ToArray();
        await _channel.WaitForSendsAsync(localPending);
        _cluster.Show(("node-2", [Line("there", remotePending, remoteMax)]));

        var next = dispatcher.SubmitAsync(DispatcherFixture.Request(), CancellationToken.None);
        await TestTimeouts.Eventually(() => _channel.Count > localPending || !_cluster.Sent.IsEmpty, "the task sent somewhere");
        if (_cluster.Sent.TryDequeue(out var sent))
        {
            Assert.Equal(("node-2", PeerMessage.Execute, "there"), (sent.Node, sent.Message.Type, sent.Message.AgentId));
            _cluster.Receive(new PeerMessage
            {
                Type = PeerMessage.Result, From = "node-2", TaskId = sent.Message.TaskId, Attempt = sent.Message.Attempt, Outcome = AttemptOutcomes.Completed,
            });
        }

        while (!_channel.IsEmpty)
        {
            var (agent, assignment) = _channel.Take();
            dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = assignment.TaskId, Attempt = assignment.Attempt, Ok = true });
        }

        var result = await next.DefaultTimeout();
        await Task.WhenAll(held).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(result.AgentId == "there" ? "node-2" : null, result.Route[0].Node);
        return result.AgentId!;
    }

    [Theory]
    [InlineData(1, 0, 2, "there")] // 0/2 < 1/2
    [InlineData(1, 1, 4, "there")] // 1/4 < 1/2
    [InlineData(1, 1, 2, "here")] // 1/2 = 1/2: a tie stays local
    [InlineData(1, 2, 4, "here")] // 2/4 = 1/2
    [InlineData(1, 2, 3, "here")] // 2/3 > 1/2
    [InlineData(0, 0, 2, "here")] // both idle: a tie
    [InlineData(2, 1, 2, "there")] // no local slot: the remote proposal as it is
    public async Task Submit_LocalAgainstRemote_RemoteOnlyWhenStrictlyLessLoaded(int localPending, int remotePending, int remoteMax, string expected)
    {
        Assert.Equal(expected, await NextTaskGoesToAsync(localPending, remotePending, remoteMax));
    }

    [Theory]
    [InlineData(0, 2, 0.5, 1.0, "here")] // shares 1/2 against 0/2 save 0.5 x 0.5 = 0.25 ms: less than the hop
    [InlineData(0, 2, 2.0, 1.0, "here")] // 0.5 x 2 = 1 ms: not more than the hop
    [InlineData(0, 2, 2.1, 1.0, "there")] // 1.05 ms
    [InlineData(0, 2, 10, 1.0, "there")] // 5 ms
    [InlineData(0, 2, 0.5, 0.0, "there")] // HopCostMs 0: the load shares alone
    [InlineData(0, 2, 30, 20.0, "here")] // 15 ms saved against a hop set to cost 20
    [InlineData(1, 4, 3, 1.0, "here")] // 1/2 against 1/4: (0.5 - 0.25) x 3 = 0.75 ms
    [InlineData(1, 4, 5, 1.0, "there")] // 0.25 x 5 = 1.25 ms
    public async Task Submit_LessLoadedRemote_OnlyWhenTheTimeItSavesBeatsTheHop(int remotePending, int remoteMax, double localLatencyMs, double hopCostMs,
        string expected)
    {
        var options = new AicpHubOptions { Cluster = { HopCostMs = hopCostMs } };

        Assert.Equal(expected, await NextTaskGoesToAsync(1, remotePending, remoteMax, options, localLatencyMs: localLatencyMs));
    }

    [Fact]
    public async Task Submit_LocalPickInPanic_AFreeRemoteAgentWhateverItsShare()
    {
        // The local agent's circuit is open, so the local pick is made in panic: any free remote agent is better.
        Assert.Equal("there", await NextTaskGoesToAsync(0, 1, 2, localCircuitOpen: true));
    }

    [Fact]
    public async Task Submit_RemoteAttemptsNodeLeaves_FailsOverWithoutDrawingOnTheRetryBudget()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { RetryBudget = { Ratio = 0, MinPerSecond = 0 } }); // no failover may draw on it
        registry.Register("c-here", "here", [Method], 1, new Dictionary<string, string>());
        var held = dispatcher.SubmitAsync(DispatcherFixture.Request(), CancellationToken.None);
        await _channel.WaitForSendsAsync(1); // "here" is full
        _cluster.Show(("node-2", [Line("there")]));
        var task = dispatcher.SubmitAsync(DispatcherFixture.Request(), CancellationToken.None);
        await TestTimeouts.Eventually(() => !_cluster.Sent.IsEmpty, "the task sent to node-2");

        _cluster.Show(); // node-2 leaves the view: the attempt there ends disconnected at once
        var (agent, first) = _channel.Take();
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = first.TaskId, Attempt = first.Attempt, Ok = true }); // a slot frees here
        var (_, failover) = await _channel.NextAsync();
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = failover.TaskId, Attempt = failover.Attempt, Ok = true });

        var result = await task.DefaultTimeout();
        Assert.Equal((TaskStatuses.Completed, "here", 2), (result.Status, result.AgentId, result.Attempts));
        Assert.Equal([("there", AttemptOutcomes.Disconnected), ("here", AttemptOutcomes.Completed)], result.Route.Select(e => (e.AgentId, e.Outcome)));
        Assert.Equal(TaskStatuses.Completed, (await held.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_PreferLocal_RemoteOnlyWhenNoLocalSlot()
    {
        var options = new AicpHubOptions { Cluster = { PreferLocal = true } };

        Assert.Equal("here", await NextTaskGoesToAsync(1, 0, 2, options));
    }

    [Fact]
    public async Task Submit_NotANodeOfACluster_NeverRemote()
    {
        var alone = new FakeClusterPeers(enabled: false);
        alone.Show(("node-2", [Line("there")])); // a view it never reads

        Assert.Equal("here", await NextTaskGoesToAsync(1, 0, 2, cluster: alone));
        Assert.Empty(alone.Sent);
    }
}
