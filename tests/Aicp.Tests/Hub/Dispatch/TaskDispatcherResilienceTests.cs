using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>Deadlines, the retry budget and hedging in the dispatcher, on a manual clock (no real waiting).</summary>
public sealed class TaskDispatcherResilienceTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly DispatcherFixture _f = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions? options = null) => _f.Create(options);

    private static TaskRequest Request(int timeoutMs = 10_000, int maxAttempts = 3, int? deadlineMs = null, string? strategy = null) =>
        DispatcherFixture.Request(timeoutMs, maxAttempts, deadlineMs, strategy);

    /// <summary><c>aicp_deadline_misses_total</c> for the method, by code (0 for a series not published).</summary>
    private async Task<(double Unreachable, double Exceeded)> DeadlineMissesAsync()
    {
        var scrape = await _f.ScrapeAsync();
        double Of(string code) => scrape.Samples.TryGetValue($"aicp_deadline_misses_total{{method=\"{Method}\",code=\"{code}\"}}", out var v)
            ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)
            : 0;
        return (Of(ErrorCodes.DeadlineUnreachable), Of(ErrorCodes.DeadlineExceeded));
    }

    [Fact]
    public async Task Submit_RetryBudgetSpent_EndsWithTheLastAttemptsStatusAndTheBudgetCode()
    {
        var dispatcher = Create(new AicpHubOptions { RetryBudget = { Ratio = 0, MinPerSecond = 0 } }).Dispatcher;
        var a = _f.Register("a");
        _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent, ok: false);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.RetryBudgetExhausted, result.Error?.Code);
        Assert.Equal("Attempt 1 ended error (model_error); the retry budget for 'image.label' is spent, so the task was not sent to another agent.",
            result.Error?.Message);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("model_error", Assert.Single(result.Route).Error?.Code);
        Assert.True(_f.Channel.IsEmpty);
        Assert.Equal(0, a.Pending);
        Assert.Equal((1L, 0L), (_f.Counters.RetryBudgetExhausted, _f.Counters.Failovers));
    }

    [Fact]
    public async Task Submit_RetryBudgetShareOfTraffic_FailoversUpToTheShareThenRefused()
    {
        var dispatcher = Create(new AicpHubOptions { RetryBudget = { Ratio = 0.5, MinPerSecond = 0 } }).Dispatcher;
        _f.Register("a", 1);
        _f.Register("b", 1);
        var statuses = new List<TaskResult>();
        for (var i = 0; i < 4; i++)
        {
            var task = dispatcher.SubmitAsync(Request(maxAttempts: 2), CancellationToken.None);
            var (agent, sent) = await _f.Channel.NextAsync();
            _f.Answer(agent, sent, ok: false); // every first attempt fails
            await TestTimeouts.Eventually(() => task.IsCompleted || !_f.Channel.IsEmpty, "a failover or a final result");
            if (!task.IsCompleted)
            {
                var (second, secondSent) = await _f.Channel.NextAsync();
                _f.Answer(second, secondSent, ok: true);
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
        var agent = _f.Register("one", 1);
        var running = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (_, first) = await _f.Channel.NextAsync();

        var waiting = dispatcher.SubmitAsync(Request(timeoutMs: 10_000, deadlineMs: 250), CancellationToken.None);
        await TestTimeouts.Eventually(() => registry.GetPool(Method)!.Waiters.Count == 1, "the second task queued");
        _f.Time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(waiting.IsCompleted);
        _f.Time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await waiting.DefaultTimeout();

        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.DeadlineExceeded, result.Error?.Code);
        Assert.Equal("The deadline (250 ms) passed while the task waited for a slot on 'image.label'; it was not sent.", result.Error?.Message);
        Assert.Equal(0, result.Attempts);
        _f.Answer(agent, first);
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        Assert.True(_f.Channel.IsEmpty); // the expired task was never sent
        Assert.Equal((0d, 1d), await DeadlineMissesAsync());
    }

    [Fact]
    public async Task Submit_FailoverAfterAnError_GetsOnlyTheTimeLeftBeforeTheDeadline()
    {
        var dispatcher = Create().Dispatcher;
        _f.Register("a");
        _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(timeoutMs: 10_000, deadlineMs: 1_000), CancellationToken.None);
        var (agent, first) = await _f.Channel.NextAsync();
        Assert.Equal(1_000, first.TimeoutMs);

        _f.Time.Advance(TimeSpan.FromMilliseconds(700));
        _f.Answer(agent, first, ok: false);
        var (other, second) = await _f.Channel.NextAsync();
        Assert.NotSame(agent, other);
        Assert.Equal(300, second.TimeoutMs);

        _f.Time.Advance(TimeSpan.FromMilliseconds(300));
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, result.Status);
        Assert.Equal(ErrorCodes.DeadlineExceeded, result.Error?.Code);
        Assert.EndsWith("ms) passed after attempt 2 ended timeout; no time was left to fail over.", result.Error?.Message);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Timeout], result.Route.Select(r => r.Outcome));
        Assert.Equal((0d, 1d), await DeadlineMissesAsync());
    }

    [Fact]
    public async Task Submit_PredictedCompletionLaterThanTheDeadline_RefusedAtOnceWithoutSending()
    {
        var dispatcher = Create().Dispatcher;
        var agent = _f.Register("slow");
        var warm = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(400));
        _f.Answer(agent, sent);
        await warm.DefaultTimeout();

        var refused = await dispatcher.SubmitAsync(Request(deadlineMs: 100), CancellationToken.None).DefaultTimeout();
        Assert.Equal(TaskStatuses.Timeout, refused.Status);
        Assert.Equal(ErrorCodes.DeadlineUnreachable, refused.Error?.Code);
        Assert.Equal(0, refused.Attempts);
        Assert.True(_f.Channel.IsEmpty);

        Assert.Equal((1d, 0d), await DeadlineMissesAsync());

        var accepted = dispatcher.SubmitAsync(Request(deadlineMs: 1_000), CancellationToken.None);
        var (_, next) = await _f.Channel.NextAsync();
        _f.Answer(agent, next);
        Assert.Equal(TaskStatuses.Completed, (await accepted.DefaultTimeout()).Status);
        Assert.Equal((1d, 0d), await DeadlineMissesAsync());
    }

    [Fact]
    public async Task Submit_PredictedCompletionExactlyAtTheDeadline_Sent()
    {
        var dispatcher = Create().Dispatcher;
        var agent = _f.Register("slow");
        var warm = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(400));
        _f.Answer(agent, sent);
        await warm.DefaultTimeout();
        Assert.Equal(400, Aicp.Hub.Routing.CompletionForecast.EarliestMs(_f.Pool, new Aicp.Hub.Routing.DefaultRandomSource(1), _f.Time.GetTimestamp()));

        Assert.Equal(ErrorCodes.DeadlineUnreachable, (await dispatcher.SubmitAsync(Request(deadlineMs: 399), CancellationToken.None).DefaultTimeout()).Error?.Code);
        var atTheDeadline = dispatcher.SubmitAsync(Request(deadlineMs: 400), CancellationToken.None);
        var (_, next) = await _f.Channel.NextAsync();
        _f.Answer(agent, next);

        Assert.Equal(TaskStatuses.Completed, (await atTheDeadline.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task Submit_InvalidDeadline_Rejected()
    {
        var dispatcher = Create().Dispatcher;
        _f.Register("a");
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
        var dispatcher = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(50), BudgetRatio = 1 } }).Dispatcher;
        var a = _f.Register("a");
        var b = _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (primaryAgent, primary) = await _f.Channel.NextAsync();

        _f.Time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.True(_f.Channel.IsEmpty);
        _f.Time.Advance(TimeSpan.FromMilliseconds(1));
        var (hedgeAgent, hedge) = await _f.Channel.NextAsync();
        Assert.NotSame(primaryAgent, hedgeAgent);
        Assert.Equal(2, hedge.Attempt);
        Assert.Equal(primary.TaskId, hedge.TaskId);

        _f.Answer(hedgeAgent, hedge);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(hedgeAgent.AgentId, result.AgentId);
        Assert.Equal(2, result.Attempts);
        var won = Assert.Single(result.Route, r => r.Outcome == AttemptOutcomes.Completed);
        Assert.True(won.Hedge);
        var lost = Assert.Single(result.Route, r => r.Outcome == AttemptOutcomes.Superseded);
        Assert.Equal(primaryAgent.AgentId, lost.AgentId);
        Assert.Equal((ErrorCodes.Superseded, "Another attempt of the task finished first."), (lost.Error?.Code, lost.Error?.Message));
        Assert.Null(lost.Hedge);
        await TestTimeouts.Eventually(() => _f.Channel.Cancelled.Contains((primaryAgent.AgentId, primary.TaskId)), "Cancel sent to the slower agent");
        Assert.Equal(0, a.Pending + b.Pending);
        Assert.Equal(0, dispatcher.InFlightCount);

        _f.Answer(primaryAgent, primary); // the loser's late answer changes nothing
        Assert.Equal(TrustScore.Initial, primaryAgent.Trust.Value); // a superseded attempt is not held against the agent
    }

    [Fact]
    public async Task Submit_PrimaryFailsWhileHedgeRuns_HedgeResultIsTheOneResult()
    {
        var dispatcher = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 1 } }).Dispatcher;
        _f.Register("a");
        _f.Register("b");
        _f.Register("c");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (primaryAgent, primary) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(20));
        var (hedgeAgent, hedge) = await _f.Channel.NextAsync();

        _f.Answer(primaryAgent, primary, ok: false);
        Assert.False(task.IsCompleted);
        _f.Answer(hedgeAgent, hedge);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(hedgeAgent.AgentId, result.AgentId);
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.True(_f.Channel.IsEmpty); // no third attempt
    }

    [Fact]
    public async Task Submit_HedgeBudgetSpent_NoHedgeThePrimaryAnswers()
    {
        var dispatcher = Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 0 } }).Dispatcher;
        _f.Register("a");
        _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(_f.Channel.IsEmpty);

        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Null(Assert.Single(result.Route).Hedge);
    }

    [Fact]
    public async Task Submit_CapabilityNotListedAsIdempotent_NeverHedged()
    {
        var dispatcher = Create(new AicpHubOptions { Hedging = { Capabilities = ["text.embed"], Delay = TimeSpan.FromMilliseconds(20), BudgetRatio = 1 } }).Dispatcher;
        _f.Register("a");
        _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(_f.Channel.IsEmpty);
        _f.Answer(agent, sent);
        Assert.Equal(1, (await task.DefaultTimeout()).Attempts);
    }
}
