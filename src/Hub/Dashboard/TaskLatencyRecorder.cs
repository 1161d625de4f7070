using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Aicp.Hub.Observability;
using Aicp.Protocol;

namespace Aicp.Hub.Dashboard;

/// <summary>
/// Latencies of completed tasks per capability, in log-spaced buckets fine enough for a p50/p95 within about 5%
/// (the Prometheus histogram's buckets, 5 ms and up, are too coarse for a live view of millisecond tasks).
/// It listens to the duration the hub already records on its <c>Aicp.Hub</c> meter
/// (<see cref="HubMetrics.TaskDurationInstrument"/>) with a <see cref="MeterListener"/>, and only between
/// <see cref="Start"/> and <see cref="Stop"/>: with no listener the instrument is not enabled and the task path
/// does not record at all. Counts are cumulative (one <see cref="Interlocked"/> increment per task); readers take
/// differences.
/// </summary>
internal sealed class TaskLatencyRecorder(HubMetrics metrics) : IDisposable
{
    /// <summary>Upper bound of the first bucket, in milliseconds.</summary>
    private const double MinMs = 0.01;

    /// <summary>Each bucket is this much wider than the previous one: the estimate (a bucket's geometric middle) is within about 5%.</summary>
    private const double Growth = 1.1;

    /// <summary>Buckets up to 0.01 ms * 1.1^199, about 28 minutes: above the longest task timeout.</summary>
    public const int BucketCount = 200;

    private static readonly double LogGrowth = Math.Log(Growth);

    private readonly ConcurrentDictionary<string, long[]> _counts = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private MeterListener? _listener;

    public bool IsListening => _listener is not null;

    public void Start()
    {
        lock (_sync)
        {
            if (_listener is not null)
            {
                return;
            }

            var instrument = metrics.TaskDurationInstrument;
            var listener = new MeterListener
            {
                InstrumentPublished = (published, l) =>
                {
                    if (ReferenceEquals(published, instrument))
                    {
                        l.EnableMeasurementEvents(published);
                    }
                },
            };
            listener.SetMeasurementEventCallback<double>(OnMeasurement);
            listener.Start();
            _listener = listener;
        }
    }

    public void Stop()
    {
        lock (_sync)
        {
            _listener?.Dispose();
            _listener = null;
        }
    }

    /// <summary>Copies the cumulative bucket counts of <paramref name="method"/> into <paramref name="into"/> (zeros before its first sample).</summary>
    public void CopyCounts(string method, long[] into)
    {
        if (!_counts.TryGetValue(method, out var counts))
        {
            Array.Clear(into);
            return;
        }

        for (var i = 0; i < into.Length; i++)
        {
            into[i] = Volatile.Read(ref counts[i]);
        }
    }

    /// <summary>Records one completed task's duration (what the meter callback does).</summary>
    public void Record(string method, double seconds)
    {
        var counts = _counts.GetOrAdd(method, static _ => new long[BucketCount]);
        Interlocked.Increment(ref counts[Bucket(seconds * 1000)]);
    }

    /// <summary>The bucket of a duration in milliseconds.</summary>
    public static int Bucket(double ms) =>
        ms <= MinMs || double.IsNaN(ms) ? 0 : (int)Math.Min(BucketCount - 1, 1 + Math.Floor(Math.Log(ms / MinMs) / LogGrowth));

    /// <summary>
    /// The <paramref name="q"/>-quantile (0..1) of the samples counted in <paramref name="counts"/>, in milliseconds: the
    /// geometric middle of the bucket holding that rank; null when there are none.
    /// </summary>
    public static double? Quantile(ReadOnlySpan<long> counts, double q)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        if (total <= 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return i == 0 ? MinMs / 2 : MinMs * Math.Pow(Growth, i - 0.5);
            }
        }

        return null;
    }

    public void Dispose() => Stop();

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? method = null;
        var completed = false;
        foreach (var tag in tags)
        {
            if (tag.Key == MetricFamilies.Tags.Method)
            {
                method = tag.Value as string;
            }
            else if (tag.Key == MetricFamilies.Tags.Status)
            {
                completed = tag.Value as string == TaskStatuses.Completed;
            }
        }

        if (completed && method is not null && method != MetricLabels.Unknown)
        {
            Record(method, seconds);
        }
    }
}
