using Aicp.Hub.Configuration;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>Tasks waiting for a slot: who gets a freed slot, and that no waiter is left behind or lost.</summary>
public sealed class TaskDispatcherQueueTests
{
    private readonly DispatcherFixture _f = new();

    [Fact]
    public async Task Submit_WokenWaiterAlreadyTriedTheFreedAgent_TheNextWaiterGetsTheSlot()
    {
        var a = _f.Register("a", maxConcurrency: 1);
        var failingOver = _f.Submit(DispatcherFixture.Request(maxAttempts: 2));
        var (_, first) = await _f.Channel.NextAsync();
        var b = _f.Register("b", maxConcurrency: 1);
        var onB = _f.Submit(DispatcherFixture.Request(maxAttempts: 1));
        var (_, second) = await _f.Channel.NextAsync();
        var third = _f.Submit(DispatcherFixture.Request(maxAttempts: 1));
        await _f.QueuedAsync(1);

        _f.Answer(a, first, ok: false); // a's slot goes to the queued task; the failing task waits for b, having tried a
        var (thirdAgent, thirdSent) = await _f.Channel.NextAsync();
        Assert.Same(a, thirdAgent);
        await _f.QueuedAsync(1);
        var fourth = _f.Submit(DispatcherFixture.Request(maxAttempts: 1));
        await _f.QueuedAsync(2);

        _f.Answer(a, thirdSent); // wakes the failing task first: it cannot use a, so the task behind it must get a
        var (fourthAgent, fourthSent) = await _f.Channel.NextAsync();
        Assert.Same(a, fourthAgent);
        await _f.QueuedAsync(1); // the failing task waits on for b

        _f.Answer(a, fourthSent);
        _f.Answer(b, second);
        var (failoverAgent, failover) = await _f.Channel.NextAsync();
        Assert.Same(b, failoverAgent);
        _f.Answer(b, failover);

        var results = await Task.WhenAll(failingOver, onB, third, fourth).DefaultTimeout();
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Completed], results[0].Route.Select(r => r.Outcome));
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Submit_SlotFoundOnTheLookBeforeSleeping_LeavesTheQueueSoOthersCanWait()
    {
        // The first pick comes back empty (as when another task takes the slot first); the look after joining the queue finds it.
        var strategy = new ScriptedStrategy((n, candidates) => n == 1 ? null : candidates[0]);
        _f.Create(new AicpHubOptions { MaxQueuedTasksPerCapability = 1 }, strategy);
        var agent = _f.Register("a", maxConcurrency: 1);
        var first = _f.Submit(DispatcherFixture.Request(strategy: ScriptedStrategy.StrategyName));
        var (_, sent) = await _f.Channel.NextAsync();
        Assert.Equal(2, strategy.Picks);
        Assert.Equal(0, _f.Pool.Waiters.Count);

        var second = _f.Submit(); // the agent is full: this one must be able to take the queue's one place
        await _f.QueuedAsync(1);
        _f.Answer(agent, sent);
        var (_, secondSent) = await _f.Channel.NextAsync();
        _f.Answer(agent, secondSent);

        Assert.Equal(TaskStatuses.Completed, (await first.DefaultTimeout()).Status);
        Assert.Equal(TaskStatuses.Completed, (await second.DefaultTimeout()).Status);
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Submit_CancelledWhileQueued_CancelledAtOnceNeverSentAndTheQueueIsEmpty()
    {
        var agent = _f.Register("a", maxConcurrency: 1);
        var running = _f.Submit();
        var (_, sent) = await _f.Channel.NextAsync();
        using var cancel = new CancellationTokenSource();
        var waiting = _f.Submit(DispatcherFixture.Request(), cancel.Token);
        await _f.QueuedAsync(1);

        await cancel.CancelAsync();
        var result = await waiting.DefaultTimeout();

        Assert.Equal(TaskStatuses.Cancelled, result.Status);
        Assert.Equal(ErrorCodes.Cancelled, result.Error?.Code);
        Assert.Equal("The submitter cancelled the task.", result.Error?.Message);
        Assert.Equal(0, result.Attempts);
        Assert.Empty(result.Route);
        Assert.Equal(0, _f.Pool.Waiters.Count);

        _f.Answer(agent, sent); // the freed slot is not held for the cancelled task: the next one runs at once
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);
        var next = _f.Submit();
        var (_, nextSent) = await _f.Channel.NextAsync();
        _f.Answer(agent, nextSent);
        Assert.Equal(TaskStatuses.Completed, (await next.DefaultTimeout()).Status);
        Assert.True(_f.Channel.IsEmpty);
        _f.AssertNothingHeld(agent);
    }
}
