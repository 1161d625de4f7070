namespace Aicp.Hub.Dispatch;

/// <summary>
/// A capability's recent attempt latencies, for percentiles such as the hedge delay: a log-scale histogram (eight
/// buckets per doubling, about 9% wide, from 0.125 ms to beyond an hour) over the current and the previous window.
/// A percentile is the upper edge of the bucket it falls in, so it errs on the long side (fewer hedges, never more).
/// One lock, taken once per completed attempt and once per percentile read.
/// </summary>
internal sealed class LatencyPercentiles
{
    private const int PerDoubling = 8;
    private const double SmallestMs = 0.125;
    private const int Count = 1 + PerDoubling * 26;

    private readonly object _gate = new();
    private readonly long _windowTicks;
    private int[] _current = new int[Count];
    private int[] _previous = new int[Count];
    private long _epoch = long.MinValue;

    public LatencyPercentiles(TimeSpan window, long timestampFrequency)
    {
        _windowTicks = Math.Max(1, (long)(window.TotalSeconds * timestampFrequency));
    }

    public void Record(double ms, long now)
    {
        var index = ms < SmallestMs ? 0 : Math.Min(Count - 1, 1 + (int)(Math.Log2(ms / SmallestMs) * PerDoubling));
        lock (_gate)
        {
            Roll(now);
            _current[index]++;
        }
    }

    /// <summary>
    /// The <paramref name="quantile"/> of the latencies recorded in the current and previous windows, in milliseconds;
    /// null with fewer than <paramref name="minSamples"/> of them.
    /// </summary>
    public double? Percentile(double quantile, long now, int minSamples)
    {
        lock (_gate)
        {
            Roll(now);
            long total = 0;
            for (var i = 0; i < Count; i++)
            {
                total += _current[i] + _previous[i];
            }

            if (total < Math.Max(1, minSamples))
            {
                return null;
            }

            var target = (long)Math.Ceiling(quantile * total);
            long seen = 0;
            // Stryker disable once Equality : target <= total, so the loop returns by the last bucket
            for (var i = 0; i < Count; i++)
            {
                seen += _current[i] + _previous[i];
                if (seen >= target)
                {
                    return UpperEdgeMs(i);
                }
            }

            // Stryker disable once Arithmetic : not reached (the loop above returns); kept for the compiler
            return UpperEdgeMs(Count - 1);
        }
    }

    private static double UpperEdgeMs(int index) => SmallestMs * Math.Pow(2, (double)index / PerDoubling);

    /// <summary>Moves the windows on to <paramref name="now"/>. Caller holds the lock.</summary>
    private void Roll(long now)
    {
        var epoch = now / _windowTicks;
        if (epoch == _epoch)
        {
            return;
        }

        if (epoch == _epoch + 1)
        {
            (_previous, _current) = (_current, _previous);
            Array.Clear(_current);
        }
        else
        {
            Array.Clear(_current);
            Array.Clear(_previous);
        }

        _epoch = epoch;
    }
}
