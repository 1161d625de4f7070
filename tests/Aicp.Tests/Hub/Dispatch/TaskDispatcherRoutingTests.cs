using System.Collections.Concurrent;
using System.Text.Json;
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

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>The dispatcher's bounded wait queue and outcome recording, on a manual clock (no real waiting).</summary>
public sealed class TaskDispatcherRoutingTests
{
    private const string Method = "image.label";

    private readonly FakeTimeProvider _time = new();
    private readonly RecordingChannel _channel = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions options)
    {
        var wrapped = Options.Create(options);
        var registry = new AgentRegistry(wrapped, _time);
        var catalog = new RoutingStrategyCatalog(RoutingFixture.AllStrategies());
        var dispatcher = new TaskDispatcher(registry, catalog, _channel, _time, new DefaultRandomSource(1), wrapped,
            NullLogger<TaskDispatcher>.Instance, TestTelemetry.Create(registry, _time));
        return (dispatcher, registry);
    }

    private static TaskRequest Request(int timeoutMs, string? strategy = null) =>
        new() { Method = Method, Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)), TimeoutMs = timeoutMs, MaxAttempts = 1, Strategy = strategy };

    private void Answer(TaskDispatcher dispatcher, string connectionId, bool ok = true)
    {
        var sent = _channel.Take();
        dispatcher.Complete(connectionId, new TaskCompletion
        {
            TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = ok, Result = ok ? TaskPayload.FromJson(JsonSerializer.SerializeToElement(2)) : null,
            Error = ok ? null : TaskError.Of("model_error", "boom"),
        });
    }

    [Fact]
    public async Task Submit_NoSlotBeforeDeadline_QueueTimeoutOnTheFakeClock()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions());
        registry.Register("c1", "one", [Method], 1, new Dictionary<string, string>());
        var running = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _channel.WaitForSendsAsync(1);

        var waiting = dispatcher.SubmitAsync(Request(200), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "the second task queued");
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await waiting.DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.QueueTimeout, result.Error?.Code);
        Assert.Equal(0, result.Attempts);
        Assert.Equal(0, registry.GetPool(Method)!.Waiters.Count);

        Answer(dispatcher, "c1");
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_QueueFull_OverloadedAtOnceAndQueuedOneRunsWhenSlotFrees()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { MaxQueuedTasksPerCapability = 1 });
        registry.Register("c1", "one", [Method], 1, new Dictionary<string, string>());
        var running = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _channel.WaitForSendsAsync(1);
        var queued = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "one task queued");

        var refused = await dispatcher.SubmitAsync(Request(10_000), CancellationToken.None).DefaultTimeout();
        Assert.Equal(TaskStatuses.Overloaded, refused.Status);
        Assert.Equal(ErrorCodes.Overloaded, refused.Error?.Code);

        Answer(dispatcher, "c1");
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        await _channel.WaitForSendsAsync(1);
        Answer(dispatcher, "c1");
        Assert.Equal(TaskStatuses.Completed, (await queued.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_NoStrategyNamed_UsesTheCapabilityDefaultAndExplainsTheChoice()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { CapabilityStrategies = { [Method] = RoutingStrategyNames.PowerOfTwo } });
        registry.Register("c1", "one", [Method], 4, new Dictionary<string, string>());
        var task = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _channel.WaitForSendsAsync(1);
        _time.Advance(TimeSpan.FromMilliseconds(40));
        Answer(dispatcher, "c1");
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
            await _channel.WaitForSendsAsync(1);
            Answer(dispatcher, "c1", ok: false);
            Assert.Equal(TaskStatuses.Failed, (await failing.DefaultTimeout()).Status);
        }

        var agent = registry.GetById("one")!;
        Assert.Equal(Aicp.Hub.Health.CircuitState.Open, agent.Circuit.StateAt(_time.GetTimestamp()));

        // the only agent is open: healthy-or-panic still routes to it, and the route entry says so
        var task = dispatcher.SubmitAsync(Request(10_000), CancellationToken.None);
        await _channel.WaitForSendsAsync(1);
        Answer(dispatcher, "c1");
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
        await _channel.WaitForSendsAsync(1);
        _channel.Take();
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Timeout, result.Status);
        var agent = registry.GetById("one")!;
        Assert.Equal(1, agent.TimedOut);
        Assert.Equal(500, agent.LatencyFor(Method)!.Milliseconds, 3);
        Assert.True(agent.Trust.Value < TrustScore.Initial);
    }

    private sealed class RecordingChannel : IAgentChannel
    {
        private readonly ConcurrentQueue<TaskAssignment> _sent = new();

        public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment)
        {
            _sent.Enqueue(assignment);
            return Task.CompletedTask;
        }

        public Task SendCancelAsync(AgentState agent, string taskId) => Task.CompletedTask;

        public Task WaitForSendsAsync(int count) => TestTimeouts.Eventually(() => _sent.Count >= count, $"{count} assignment(s) sent");

        public TaskAssignment Take()
        {
            Assert.True(_sent.TryDequeue(out var sent));
            return sent;
        }
    }
}
