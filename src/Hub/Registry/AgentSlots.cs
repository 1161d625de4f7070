using System.Runtime.CompilerServices;

namespace Aicp.Hub.Registry;

/// <summary>
/// An agent's capacity as the hub counts it: the pending count (tasks sent and not yet ended), its limit, and since
/// when the agent has held work without finishing any. Lock-free: the count moves by compare-and-swap and never
/// exceeds the limit.
/// </summary>
/// <remarks>
/// A mutable struct held in one field of <see cref="AgentState"/> and only ever used through that field, so the
/// counters sit next to the agent's other routing fields: a routing decision reads them for every candidate, and one
/// object fewer per candidate keeps a 1,000-agent scan in cache.
/// </remarks>
internal struct AgentSlots(int limit)
{
    private int _pending;
    private int _limit = limit;
    private long _busySince;

    public readonly int Pending => Volatile.Read(ref Unsafe.AsRef(in _pending));

    /// <summary>The agent's <c>maxConcurrency</c>.</summary>
    public int Limit
    {
        readonly get => Volatile.Read(ref Unsafe.AsRef(in _limit));
        set => Volatile.Write(ref _limit, value);
    }

    public readonly bool HasFree => Pending < Limit;

    /// <summary>Takes a slot if one is free. The clock is read only when the agent was idle: the time it became busy.</summary>
    public bool TryTake(TimeProvider time)
    {
        while (true)
        {
            var current = Volatile.Read(ref _pending);
            if (current >= Limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _pending, current + 1, current) == current)
            {
                if (current == 0)
                {
                    Volatile.Write(ref _busySince, time.GetTimestamp());
                }

                return true;
            }
        }
    }

    /// <summary>Gives a slot back; the agent made progress at <paramref name="now"/>.</summary>
    public void Release(long now)
    {
        Volatile.Write(ref _busySince, now);
        var after = Interlocked.Decrement(ref _pending);
        // Stryker disable once Statement,String : a debug build's check of the invariant and its message; nothing a caller sees
        System.Diagnostics.Debug.Assert(after >= 0, "pending count went negative");
    }

    /// <summary>
    /// How long (in timestamp ticks) the agent has held work without finishing any: since its last task ended, or
    /// since it became busy; 0 when it holds nothing. The oldest task it holds has waited at least this long.
    /// </summary>
    public readonly long BusyWithoutProgress(long now) =>
        Pending == 0 ? 0 : Math.Max(0, now - Volatile.Read(ref Unsafe.AsRef(in _busySince)));
}
