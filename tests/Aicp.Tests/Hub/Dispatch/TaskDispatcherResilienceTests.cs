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

    private TaskDispatcher Hedged(TimeSpan? delay, double budgetRatio = 1) =>
        Create(new AicpHubOptions { Hedging = { Capabilities = [Method], Delay = delay, BudgetRatio = budgetRatio } }).Dispatcher;

    [Fact]
    public async Task Submit_HedgeDelay_RunsOnTheHubsClock()
    {
        var dispatcher = Hedged(TimeSpan.FromSeconds(8)); // within the hedge budget's 10 s window
        var a = _f.Register("a");
        var b = _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(timeoutMs: 60_000), CancellationToken.None);
        var (primaryAgent, _) = await _f.Channel.NextAsync();

        _f.Time.Advance(TimeSpan.FromSeconds(8) - TimeSpan.FromTicks(1));
        Assert.True(_f.Channel.IsEmpty);
        _f.Time.Advance(TimeSpan.FromTicks(1));
        // 8 s on the hub's clock, not on the wall clock: sent well before 8 real seconds pass
        await TestTimeouts.Eventually(() => !_f.Channel.IsEmpty, "the hedge sent", TimeSpan.FromSeconds(4));
        var (hedgeAgent, hedge) = _f.Channel.Take();
        _f.Answer(hedgeAgent, hedge);
        var result = await task.DefaultTimeout();

        Assert.NotSame(primaryAgent, hedgeAgent);
        Assert.Equal((TaskStatuses.Completed, hedgeAgent.AgentId), (result.Status, result.AgentId));
        Assert.Equal((1L, 1L), (_f.Counters.Hedges, _f.Counters.HedgesWon));
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Submit_PrimaryFailsBeforeTheHedgeDelay_TheNextAttemptIsAFailoverNotAHedge()
    {
        var dispatcher = Hedged(TimeSpan.FromSeconds(5));
        var a = _f.Register("a");
        var b = _f.Register("b");
        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (first, sent) = await _f.Channel.NextAsync();

        _f.Answer(first, sent, ok: false);
        var (second, failover) = await _f.Channel.NextAsync();
        _f.Answer(second, failover);
        var result = await task.DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, 2), (result.Status, result.Attempts));
        Assert.Equal([null, null], result.Route.Select(r => r.Hedge));
        Assert.Equal((1L, 0L), (_f.Counters.Failovers, _f.Counters.Hedges));
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Submit_PercentileDelayWithTooFewSamples_NoHedgeUntilTwentyCompletions()
    {
        var dispatcher = Hedged(delay: null);
        var a = _f.Register("a");
        var b = _f.Register("b");
        for (var i = 0; i < TaskDispatcher.HedgeMinSamples; i++)
        {
            var task = dispatcher.SubmitAsync(Request(timeoutMs: 60_000), CancellationToken.None);
            var (agent, sent) = await _f.Channel.NextAsync();
            _f.Time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(_f.Channel.IsEmpty); // slow or not, no hedge without the samples to say what slow is
            _f.Answer(agent, sent);
            Assert.Equal(1, (await task.DefaultTimeout()).Attempts);
        }

        var hedged = dispatcher.SubmitAsync(Request(timeoutMs: 60_000), CancellationToken.None);
        var (primaryAgent, primary) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(200)); // past the 95th percentile of twenty 100 ms attempts
        var (hedgeAgent, hedge) = await _f.Channel.NextAsync();
        _f.Answer(primaryAgent, primary);
        var result = await hedged.DefaultTimeout();

        Assert.Equal((primary.TaskId, 2), (hedge.TaskId, hedge.Attempt));
        Assert.NotSame(primaryAgent, hedgeAgent);
        Assert.Equal((TaskStatuses.Completed, 1L), (result.Status, _f.Counters.Hedges));
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Submit_HedgedCapabilitySubmitterAlreadyGone_CancelledNothingSent()
    {
        var dispatcher = Hedged(TimeSpan.FromMilliseconds(50));
        var a = _f.Register("a");
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        var result = await dispatcher.SubmitAsync(Request(), cancel.Token).DefaultTimeout();

        Assert.Equal((TaskStatuses.Cancelled, ErrorCodes.Cancelled), (result.Status, result.Error?.Code));
        Assert.True(_f.Channel.IsEmpty);
        _f.AssertNothingHeld(a);
    }

    [Fact]
    public async Task Submit_HedgeBudgetOfHalfTheTasks_EachHedgeSpendsIt()
    {
        var dispatcher = Hedged(TimeSpan.FromMilliseconds(50), budgetRatio: 0.5);
        var a = _f.Register("a");
        var b = _f.Register("b");

        async Task<TaskResult> RunAsync(bool hedgeExpected)
        {
            var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
            var (agent, sent) = await _f.Channel.NextAsync();
            _f.Time.Advance(TimeSpan.FromMilliseconds(50));
            if (hedgeExpected)
            {
                (agent, sent) = await _f.Channel.NextAsync(); // the hedge answers first
            }

            _f.Answer(agent, sent);
            return await task.DefaultTimeout();
        }

        // Task 1: the budget is half a hedge. Task 2: one hedge (0.5 x 2 tasks). Task 3: 1.5, one of it spent: none.
        var hedged = new List<bool>();
        foreach (var expected in new[] { false, true, false })
        {
            hedged.Add((await RunAsync(expected)).Route.Any(r => r.Hedge == true));
        }

        Assert.Equal([false, true, false], hedged);
        Assert.Equal(1, _f.Counters.Hedges);
        _f.AssertNothingHeld(a, b);
    }
}
