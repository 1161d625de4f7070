using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>Deadlines, the retry budget and hedging in the dispatcher, on a manual clock (no real waiting).</summary>
public sealed class TaskDispatcherResilienceTests
{
    private const string Method = "image.label";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions? options = null) => TestDispatcher.Create(_time, _channel, options);

    private static TaskRequest Request(int timeoutMs = 10_000, int maxAttempts = 3, int? deadlineMs = null, string? strategy = null) => new()
    {
        Method = Method, Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)), TimeoutMs = timeoutMs,
        MaxAttempts = maxAttempts, DeadlineMs = deadlineMs, Strategy = strategy,
    };

    private static void Answer(TaskDispatcher dispatcher, AgentState agent, TaskAssignment sent, bool ok = true) =>
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion
        {
            TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = ok, Result = ok ? TaskPayload.FromJson(JsonSerializer.SerializeToElement(agent.AgentId)) : null,
            Error = ok ? null : TaskError.Of("model_error", "boom"),
        });

    private static AgentState Register(AgentRegistry registry, string id, int maxConcurrency = 4) =>
        registry.Register("c-" + id, id, [Method], maxConcurrency, new Dictionary<string, string>()).Agent;

    [Fact]
    public async Task Submit_RetryBudgetSpent_EndsWithTheLastAttemptsStatusAndTheBudgetCode()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { RetryBudget = { Ratio = 0, MinPerSecond = 0 } });
        var a = Register(registry, "a");
        Register(registry, "b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Answer(dispatcher, agent, sent, ok: false);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.RetryBudgetExhausted, result.Error?.Code);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("model_error", Assert.Single(result.Route).Error?.Code);
        Assert.True(_channel.IsEmpty);
        Assert.Equal(0, a.Pending);
    }

    [Fact]
    public async Task Submit_RetryBudgetShareOfTraffic_FailoversUpToTheShareThenRefused()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { RetryBudget = { Ratio = 0.5, MinPerSecond = 0 } });
        Register(registry, "a", 1);
        Register(registry, "b", 1);
        var statuses = new List<TaskResult>();
        for (var i = 0; i < 4; i++)
        {
            var task = dispatcher.SubmitAsync(Request(maxAttempts: 2), CancellationToken.None);
            var (agent, sent) = await _channel.NextAsync();
            Answer(dispatcher, agent, sent, ok: false); // every first attempt fails
            await TestTimeouts.Eventually(() => task.IsCompleted || !_channel.IsEmpty, "a failover or a final result");
            if (!task.IsCompleted)
            {
                var (second, secondSent) = await _channel.NextAsync();
                Answer(dispatcher, second, secondSent, ok: true);
            }

            statuses.Add(await task.DefaultTimeout());
        }

        // budget 0.5 per task: task 1 has no room (1 > 0.5 x 1), task 2 has (1 <= 0.5 x 2), task 3 not (2 > 1.5), task 4 has
        Assert.Equal(2, statuses.Count(r => r.Status == TaskStatuses.Completed && r.Attempts == 2));
        Assert.Equal(2, statuses.Count(r => r.Error?.Code == ErrorCodes.RetryBudgetExhausted));
    }

    [Fact]
    public async Task Submit_DeadlinePassesWhileQueued_DeadlineExceededAndNeverSent()
    {
        var (dispatcher, registry) = Create();
        var agent = Register(registry, "one", 1);
        var running = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (_, first) = await _channel.NextAsync();

        var waiting = dispatcher.SubmitAsync(Request(timeoutMs: 10_000, deadlineMs: 250), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "the second task queued");
        _time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await waiting.DefaultTimeout();

        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.DeadlineExceeded, result.Error?.Code);
        Assert.Equal(0, result.Attempts);
        Answer(dispatcher, agent, first);
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        Assert.True(_channel.IsEmpty); // the expired task was never sent
    }

    [Fact]
    public async Task Submit_FailoverAfterAnError_GetsOnlyTheTimeLeftBeforeTheDeadline()
    {
        var (dispatcher, registry) = Create();
        Register(registry, "a");
        Register(registry, "b");
        var task = dispatcher.SubmitAsync(Request(timeoutMs: 10_000, deadlineMs: 1_000), CancellationToken.None);
        var (agent, first) = await _channel.NextAsync();
        Assert.Equal(1_000, first.TimeoutMs);

        _time.Advance(TimeSpan.FromMilliseconds(700));
        Answer(dispatcher, agent, first, ok: false);
        var (other, second) = await _channel.NextAsync();
        Assert.NotSame(agent, other);
        Assert.Equal(300, second.TimeoutMs);

        _time.Advance(TimeSpan.FromMilliseconds(300));
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.DeadlineExceeded, result.Error?.Code);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Timeout], result.Route.Select(r => r.Outcome));
    }

    [Fact]
    public async Task Submit_PredictedCompletionLaterThanTheDeadline_RefusedAtOnceWithoutSending()
    {
        var (dispatcher, registry) = Create();
        var agent = Register(registry, "slow");
        var warm = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (_, sent) = await _channel.NextAsync();
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Answer(dispatcher, agent, sent);
        await warm.DefaultTimeout();

        var refused = await dispatcher.SubmitAsync(Request(deadlineMs: 100), CancellationToken.None).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, refused.Status);
        Assert.Equal(ErrorCodes.DeadlineUnreachable, refused.Error?.Code);
        Assert.Equal(0, refused.Attempts);
        Assert.True(_channel.IsEmpty);

        var accepted = dispatcher.SubmitAsync(Request(deadlineMs: 1_000), CancellationToken.None);
        var (_, next) = await _channel.NextAsync();
        Answer(dispatcher, agent, next);
        Assert.Equal(TaskStatuses.Completed, (await accepted.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_InvalidDeadline_Rejected()
    {
        var (dispatcher, registry) = Create();
        Register(registry, "a");
        foreach (var deadline in new[] { 0, ProtocolDefaults.MaxDeadlineMs + 1 })
        {
            var result = await dispatcher.SubmitAsync(Request(deadlineMs: deadline), CancellationToken.None).DefaultTimeout();
            Assert.Equal(TaskStatuses.Rejected, result.Status);
            Assert.Equal(ErrorCodes.InvalidDeadline, result.Error?.Code);
        }
    }

    [Fact]
    public async Task Submit_IdempotentCapabilitySlowAttempt_HedgeWinsLoserCancelledOneResult()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(50), BudgetRatio = 1 } });
        var a = Register(registry, "a");
        var b = Register(registry, "b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (primaryAgent, primary) = await _channel.NextAsync();

        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.True(_channel.IsEmpty);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var (hedgeAgent, hedge) = await _channel.NextAsync();
        Assert.NotSame(primaryAgent, hedgeAgent);
        Assert.Equal(2, hedge.Attempt);
        Assert.Equal(primary.TaskId, hedge.TaskId);

        Answer(dispatcher, hedgeAgent, hedge);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(hedgeAgent.AgentId, result.AgentId);
        Assert.Equal(2, result.Attempts);
        var won = Assert.Single(result.Route, r => r.Outcome == AttemptOutcomes.Completed);
        Assert.True(won.Hedge);
        var lost = Assert.Single(result.Route, r => r.Outcome == AttemptOutcomes.Superseded);
        Assert.Equal(primaryAgent.AgentId, lost.AgentId);
        Assert.Null(lost.Hedge);
        await TestTimeouts.Eventually(() => _channel.Cancelled.Contains((primaryAgent.AgentId, primary.TaskId)), "Cancel sent to the slower agent");
        Assert.Equal(0, a.Pending + b.Pending);
        Assert.Equal(0, dispatcher.InFlightCount);

        Answer(dispatcher, primaryAgent, primary); // the loser's late answer changes nothing
        Assert.Equal(TrustScore.Initial, primaryAgent.Trust.Value); // a superseded attempt is not held against the agent
    }

    [Fact]
    public async Task Submit_PrimaryFailsWhileHedgeRuns_HedgeResultIsTheOneResult()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 1 } });
        Register(registry, "a");
        Register(registry, "b");
        Register(registry, "c");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (primaryAgent, primary) = await _channel.NextAsync();
        _time.Advance(TimeSpan.FromMilliseconds(20));
        var (hedgeAgent, hedge) = await _channel.NextAsync();

        Answer(dispatcher, primaryAgent, primary, ok: false);
        Assert.False(task.IsCompleted);
        Answer(dispatcher, hedgeAgent, hedge);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(hedgeAgent.AgentId, result.AgentId);
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.True(_channel.IsEmpty); // no third attempt
    }

    [Fact]
    public async Task Submit_HedgeBudgetSpent_NoHedgeThePrimaryAnswers()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 0 } });
        Register(registry, "a");
        Register(registry, "b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(_channel.IsEmpty);

        Answer(dispatcher, agent, sent);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Null(Assert.Single(result.Route).Hedge);
    }

    [Fact]
    public async Task Submit_CapabilityNotListedAsIdempotent_NeverHedged()
    {
        var (dispatcher, registry) = Create(new AicpHubOptions { Hedging = { Capabilities = ["text.embed"], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 1 } });
        Register(registry, "a");
        Register(registry, "b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(_channel.IsEmpty);
        Answer(dispatcher, agent, sent);
        Assert.Equal(1, (await task.DefaultTimeout()).Attempts);
    }
}
