using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>The dispatcher's bounded wait queue and outcome recording, on a manual clock (no real waiting).</summary>
public sealed class TaskDispatcherRoutingTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly DispatcherFixture _f = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions options) => _f.Create(options);

    private static TaskRequest Request(int timeoutMs, string? strategy = null) => DispatcherFixture.Request(timeoutMs, maxAttempts: 1, strategy: strategy);

    /// <summary>The agent the oldest recorded assignment went to answers it.</summary>
    private void Answer(bool ok = true)
    {
        var (agent, sent) = _f.Channel.Take();
        _f.Answer(agent, sent, ok);
    }

    [Fact]
    public async Task Submit_NoSlotBeforeDeadline_QueueTimeoutOnTheFakeClock()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions());
        registry.Register("c1", "one", [Method], 1, new Dictionary<string, string>());
        var running = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _f.Channel.WaitForSendsAsync(1);

        var waiting = dispatcher.SubmitAsync(Request(200), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "the second task queued");
        Assert.False(waiting.IsCompleted);

        _f.Time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(waiting.IsCompleted);
        _f.Time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await waiting.DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.QueueTimeout, result.Error?.Code);
        Assert.Equal("No agent slot for 'image.label' freed up within 200 ms.", result.Error?.Message);
        Assert.Equal(0, result.Attempts);
        Assert.Equal(0, registry.GetPool(Method)!.Waiters.Count);

        Answer();
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_QueueFull_OverloadedAtOnceAndQueuedOneRunsWhenSlotFrees()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { MaxQueuedTasksPerCapability = 1 });
        registry.Register("c1", "one", [Method], 1, new Dictionary<string, string>());
        var running = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _f.Channel.WaitForSendsAsync(1);
        var queued = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "one task queued");

        var refused = await dispatcher.SubmitAsync(Request(10_000), CancellationToken.None).DefaultTimeout();
        Assert.Equal(TaskStatuses.Overloaded, refused.Status);
        Assert.Equal(ErrorCodes.Overloaded, refused.Error?.Code);
        Assert.Equal("The wait queue for 'image.label' is full (1).", refused.Error?.Message);

        Answer();
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        await _f.Channel.WaitForSendsAsync(1);
        Answer();
        Assert.Equal(TaskStatuses.Completed, (await queued.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_NoStrategyNamed_UsesTheCapabilityDefaultAndExplainsTheChoice()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { CapabilityStrategies = { [Method] = RoutingStrategyNames.PowerOfTwo } });
        registry.Register("c1", "one", [Method], 4, new Dictionary<string, string>());
        var task = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _f.Channel.WaitForSendsAsync(1);
        _f.Time.Advance(TimeSpan.FromMilliseconds(40));
        Answer();
        var result = await task.DefaultTimeout();

        Assert.Equal(RoutingStrategyNames.PowerOfTwo, result.Strategy);
        var entry = Assert.Single(result.Route);
        Assert.Equal(RoutingStrategyNames.PowerOfTwo, entry.Strategy);
        Assert.Equal("closed", entry.Circuit);
        Assert.Equal(30, entry.LatencyEstimateMs); // no history yet: the default
        Assert.Equal(0.1, entry.SlowStart); // just registered
        Assert.Equal(40, registry.GetById("one")!.LatencyFor(Method)!.Milliseconds, 3);
    }

    [Fact]
    public async Task Submit_AgentErrorsFiveTimes_CircuitOpensAndRouteSaysPanic()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions());
        registry.Register("c1", "one", [Method], 4, new Dictionary<string, string>());
        for (var i = 0; i < 5; i++)
        {
            var failing = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
            await _f.Channel.WaitForSendsAsync(1);
            Answer(ok: false);
            Assert.Equal(TaskStatuses.Failed, (await failing.DefaultTimeout()).Status);
        }

        var agent = registry.GetById("one")!;
        Assert.Equal(Aicp.Hub.Health.CircuitState.Open, agent.Circuit.StateAt(_f.Time.GetTimestamp()));

        // the only agent is open: healthy-or-panic still routes to it, and the route entry says so
        var task = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _f.Channel.WaitForSendsAsync(1);
        Answer();
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("open", Assert.Single(result.Route).Circuit);
    }

    [Fact]
    public async Task Submit_AttemptTimesOut_RecordedAsTimeoutWithElapsedLatency()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions());
        registry.Register("c1", "one", [Method], 4, new Dictionary<string, string>());
        var task = dispatcher.SubmitAsync(Request(500), CancellationToken.None);
        await _f.Channel.WaitForSendsAsync(1);
        _f.Channel.Take();
        _f.Time.Advance(TimeSpan.FromMilliseconds(500));
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Timeout, result.Status);
        var agent = registry.GetById("one")!;
        Assert.Equal(1, agent.TimedOut);
        Assert.Equal(500, agent.LatencyFor(Method)!.Milliseconds, 3);
        Assert.True(agent.Trust.Value < TrustScore.Initial);
    }
}
