namespace Aicp.Hub.Dispatch;

/// <summary>
/// Extra attempts (failovers, hedges) as a share of a capability's recent traffic, as Finagle's <c>RetryBudget</c>
/// keeps them: every task deposits, every extra attempt withdraws, and a withdrawal succeeds while the extra attempts
/// within the window stay at most <c>ratio x tasks + floor</c>. The window slides in ten buckets.
/// <para>
/// Polly.Core has no retry budget (its retry strategy limits attempts per execution, not across executions); this class
/// is that missing piece. One lock per budget, taken once per task and once per extra attempt, for a few instructions.
/// </para>
/// </summary>
internal sealed class AttemptBudget
{
    private const int Buckets = 10;

    private readonly object _gate = new();
    private readonly double _ratio;
    private readonly double _floor;
    private readonly long _bucketTicks;
    private readonly long[] _epochs = new long[Buckets];
    private readonly int[] _deposits = new int[Buckets];
    private readonly int[] _withdrawals = new int[Buckets];

    /// <param name="ratio">Extra attempts allowed per task.</param>
    /// <param name="minPerSecond">Extra attempts allowed per second whatever the traffic.</param>
    /// <param name="window">How far back tasks and extra attempts count.</param>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in.</param>
    public AttemptBudget(double ratio, double minPerSecond, TimeSpan window, long timestampFrequency)
    {
        _ratio = ratio;
        _floor = minPerSecond * window.TotalSeconds;
        _bucketTicks = Math.Max(1, (long)(window.TotalSeconds * timestampFrequency / Buckets));
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>A task was submitted at <paramref name="now"/>.</summary>
    public void Deposit(long now)
    {
        lock (_gate)
        {
            _deposits[Bucket(now)]++;
        }
    }

    /// <summary>Whether an extra attempt would be allowed at <paramref name="now"/> (without taking it).</summary>
    public bool HasBalance(long now)
    {
        lock (_gate)
        {
            return Allowed(now);
        }
    }

    /// <summary>Takes one extra attempt from the budget; false when it is spent.</summary>
    public bool TryWithdraw(long now)
    {
        lock (_gate)
        {
            if (!Allowed(now))
            {
                return false;
            }

            _withdrawals[Bucket(now)]++;
            return true;
        }
    }

    private bool Allowed(long now)
    {
        var current = Epoch(now);
        long deposits = 0, withdrawals = 0;
        for (var i = 0; i < Buckets; i++)
        {
            if (_epochs[i] > current - Buckets && _epochs[i] <= current)
            {
                deposits += _deposits[i];
                withdrawals += _withdrawals[i];
            }
        }

        return withdrawals + 1 <= _ratio * deposits + _floor;
    }

    /// <summary>The bucket of <paramref name="now"/>, emptied first when it last held an older epoch. Caller holds the lock.</summary>
    private int Bucket(long now)
    {
        var epoch = Epoch(now);
        var index = (int)(((epoch % Buckets) + Buckets) % Buckets);
        if (_epochs[index] != epoch)
        {
            _epochs[index] = epoch;
            _deposits[index] = 0;
            _withdrawals[index] = 0;
        }

        return index;
    }

    private long Epoch(long now) => Math.DivRem(now, _bucketTicks, out var rem) - (rem < 0 ? 1 : 0);
}
