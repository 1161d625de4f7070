using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Registry;

/// <summary>The per-capability queue of tasks waiting for a slot: bounded, first in first woken, no wake-up lost.</summary>
public sealed class SlotWaitQueueTests
{
    private static SlotWaitQueue.Waiter[] Enqueue(SlotWaitQueue queue, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => queue.TryEnqueue() ?? throw new InvalidOperationException("queue full"))];

    private static bool[] Woken(params SlotWaitQueue.Waiter[] waiters) => [.. waiters.Select(w => w.Woken.IsCompletedSuccessfully)];

    [Fact]
    public void TryEnqueue_AtCapacity_RefusedUntilOneLeaves()
    {
        var queue = new SlotWaitQueue(2);
        var waiters = Enqueue(queue, 2);
        Assert.Null(queue.TryEnqueue());
        Assert.Equal(2, queue.Count);

        waiters[0].Leave();
        Assert.Equal(1, queue.Count);
        Assert.NotNull(queue.TryEnqueue());
    }

    [Fact]
    public async Task WakeOne_ThreeWaiting_WakesTheOldestWithTheOthersAsItsHandOffBudget()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);

        queue.WakeOne();

        Assert.Equal([true, false, false], Woken(waiters));
        Assert.Equal(2, await waiters[0].Woken.DefaultTimeout());
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public async Task PassOn_UnusableWakeUp_GoesOnceAroundTheQueueThenStops()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);
        queue.WakeOne();

        queue.PassOn(await waiters[0].Woken.DefaultTimeout());
        Assert.Equal(1, await waiters[1].Woken.DefaultTimeout());
        queue.PassOn(await waiters[1].Woken.DefaultTimeout());
        Assert.Equal(0, await waiters[2].Woken.DefaultTimeout());

        var late = Enqueue(queue, 1)[0];
        queue.PassOn(await waiters[2].Woken.DefaultTimeout()); // the budget is spent: the wake-up went round once
        Assert.False(late.Woken.IsCompleted);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void WakeOneAndPassOn_EmptyQueue_NothingHappens()
    {
        var queue = new SlotWaitQueue(1);
        queue.WakeOne();
        queue.PassOn(3);
        var waiter = Enqueue(queue, 1)[0];
        Assert.False(waiter.Woken.IsCompleted); // no wake-up was kept for later
    }

    [Fact]
    public async Task WakeAll_SeveralWaiting_EachWokenWithNoHandOffAndTheQueueEmpty()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);

        queue.WakeAll();

        var hops = await Task.WhenAll(waiters.Select(w => w.Woken)).DefaultTimeout();
        Assert.Equal([0, 0, 0], hops);
        Assert.Equal(0, queue.Count);
        waiters[1].Leave(); // leaving after a wake-up it will not use: the queue is empty, nothing to pass on
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Leave_WhileWaiting_RemovedWithoutWakingAnyone()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);

        waiters[0].Leave();
        Assert.Equal([false, false, false], Woken(waiters));
        Assert.Equal(2, queue.Count);

        queue.WakeOne(); // the next freed slot goes to the oldest waiter still there
        Assert.Equal([false, true, false], Woken(waiters));
    }

    [Fact]
    public async Task Leave_AfterAWakeUpItWillNotUse_TheNextWaiterGetsIt()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);
        queue.WakeOne();

        waiters[0].Leave(); // e.g. its wait timed out just as the slot freed

        Assert.Equal([true, true, false], Woken(waiters));
        Assert.Equal(1, await waiters[1].Woken.DefaultTimeout());
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void Leave_Twice_TheSecondChangesNothing()
    {
        var queue = new SlotWaitQueue(10);
        var waiters = Enqueue(queue, 3);

        waiters[1].Leave();
        waiters[1].Leave(); // already gone: no error, and nobody else removed

        Assert.Equal(2, queue.Count);
        Assert.Equal(10, queue.Capacity);
        queue.WakeOne();
        queue.WakeOne();
        Assert.Equal([true, false, true], Woken(waiters));
    }
}
