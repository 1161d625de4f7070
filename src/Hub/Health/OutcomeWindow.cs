namespace Aicp.Hub.Health;

/// <summary>
/// An agent's attempt outcomes over the sampling window (<c>Aicp:Health:SamplingDuration</c>, 30 s) in ten buckets,
/// like Polly's <c>RollingHealthMetrics</c>: the totals the trip rule reads, and the success rate routing reads.
/// Not thread-safe for writes: the circuit breaker calls <see cref="Add"/> and <see cref="Clear"/> under its lock;
/// <see cref="SuccessRate"/> is a lock-free read of the last published value.
/// </summary>
internal sealed class OutcomeWindow
{
    private const int Buckets = 10;
    private const int SuccessPrior = 3; // a new agent's rate starts as if it had 3 successes: one early failure is not a verdict

    private readonly long _samplingTicks;
    private readonly long _bucketTicks;
    private readonly long[] _bucketEpoch = new long[Buckets];
    private readonly int[] _bucketOk = new int[Buckets];
    private readonly int[] _bucketFailed = new int[Buckets];
    private double _successRate = 1;
    private long _rateStamp;

    public OutcomeWindow(long samplingTicks)
    {
        _samplingTicks = samplingTicks;
        _bucketTicks = Math.Max(1, samplingTicks / Buckets);
        // Stryker disable once Statement : a bucket never written holds zero counts, whatever epoch it claims
        Array.Fill(_bucketEpoch, long.MinValue);
    }

    /// <summary>Success rate over the window (with a small prior of successes); 1 when the window is empty or old.</summary>
    public double SuccessRate(long now) =>
        now - Volatile.Read(ref _rateStamp) > _samplingTicks ? 1 : Volatile.Read(ref _successRate);

    /// <summary>Adds one outcome and returns the window's totals. Caller holds the breaker's lock.</summary>
    public (int Total, int Failed) Add(long now, bool ok)
    {
        var epoch = Math.DivRem(now, _bucketTicks, out var rem);
        // Stryker disable once Statement,Update,Boolean,Block : timestamps are never negative, so neither is rem; negating the test shifts every epoch by one alike
        if (rem < 0)
        {
            epoch--;
        }

        var index = (int)(((epoch % Buckets) + Buckets) % Buckets);
        if (_bucketEpoch[index] != epoch)
        {
            _bucketEpoch[index] = epoch;
            _bucketOk[index] = 0;
            _bucketFailed[index] = 0;
        }

        if (ok)
        {
            _bucketOk[index]++;
        }
        else
        {
            _bucketFailed[index]++;
        }

        int okTotal = 0, failedTotal = 0;
        for (var i = 0; i < Buckets; i++)
        {
            // Stryker disable once Equality : the one extra bucket >= admits (one window old) shares its slot with the current bucket, just emptied
            if (_bucketEpoch[i] > epoch - Buckets)
            {
                okTotal += _bucketOk[i];
                failedTotal += _bucketFailed[i];
            }
        }

        Volatile.Write(ref _successRate, (okTotal + SuccessPrior) / (double)(okTotal + failedTotal + SuccessPrior));
        Volatile.Write(ref _rateStamp, now);
        return (okTotal + failedTotal, failedTotal);
    }

    /// <summary>Forgets every outcome (the circuit closed after a break). Caller holds the breaker's lock.</summary>
    public void Clear()
    {
        Array.Fill(_bucketEpoch, long.MinValue);
        Volatile.Write(ref _successRate, 1);
    }
}
