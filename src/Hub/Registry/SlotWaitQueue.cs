namespace Aicp.Hub.Registry;

/// <summary>
/// A bounded FIFO of tasks waiting for an agent slot on one capability. A freed slot wakes the head
/// waiter; a waiter that cannot use it (every free agent was already tried by that task) passes the
/// wake-up on, at most once around the queue. One lock guards the list; the critical sections are O(1)
/// except <see cref="WakeAll"/>, which runs only when agents join or leave.
/// </summary>
internal sealed class SlotWaitQueue(int capacity)
{
    private readonly LinkedList<Waiter> _waiters = new();

    public int Capacity { get; } = capacity;

    public int Count
    {
        get
        {
            lock (_waiters)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Adds a waiter at the tail; null when the queue is full.</summary>
    public Waiter? TryEnqueue()
    {
        lock (_waiters)
        {
            if (_waiters.Count >= Capacity)
            {
                return null;
            }

            var waiter = new Waiter(this);
            waiter.Node = _waiters.AddLast(waiter);
            return waiter;
        }
    }

    /// <summary>Wakes the head waiter, with a budget of further hand-offs equal to the queue's length.</summary>
    public void WakeOne()
    {
        Waiter? head;
        int hops;
        lock (_waiters)
        {
            head = TakeFirst();
            hops = _waiters.Count;
        }

        head?.Wake(hops);
    }

    /// <summary>Passes an unusable wake-up to the next waiter while the budget lasts.</summary>
    public void PassOn(int hopsLeft)
    {
        if (hopsLeft <= 0)
        {
            return;
        }

        Waiter? head;
        lock (_waiters)
        {
            head = TakeFirst();
        }

        head?.Wake(hopsLeft - 1);
    }

    /// <summary>Wakes every waiter so each re-evaluates (agents joined, left or drained).</summary>
    public void WakeAll()
    {
        List<Waiter> all;
        lock (_waiters)
        {
            all = [.. _waiters];
            foreach (var waiter in all)
            {
                waiter.Node = null;
            }

            _waiters.Clear();
        }

        foreach (var waiter in all)
        {
            waiter.Wake(0);
        }
    }

    private Waiter? TakeFirst()
    {
        var first = _waiters.First;
        if (first is null)
        {
            return null;
        }

        _waiters.RemoveFirst();
        first.Value.Node = null;
        return first.Value;
    }

    private void Remove(Waiter waiter)
    {
        lock (_waiters)
        {
            if (waiter.Node is { } node)
            {
                _waiters.Remove(node);
                waiter.Node = null;
            }
        }
    }

    /// <summary>One waiting task. Its <see cref="Woken"/> task yields the hand-off budget left.</summary>
    public sealed class Waiter(SlotWaitQueue owner)
    {
        private readonly TaskCompletionSource<int> _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal LinkedListNode<Waiter>? Node { get; set; }

        public Task<int> Woken => _signal.Task;

        internal void Wake(int hops) => _signal.TrySetResult(hops);

        /// <summary>
        /// Leaves the queue (the task found a slot, its wait timed out or it was cancelled). A wake-up it got and will not
        /// use goes to the next waiter, so the slot freed for it is not left idle while others wait.
        /// </summary>
        public void Leave()
        {
            owner.Remove(this);
            if (Woken.IsCompletedSuccessfully)
            {
                owner.WakeOne();
            }
        }
    }
}
