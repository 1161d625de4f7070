using Aicp.Hub.Observability;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Dashboard;

/// <summary>
/// Per-second samples of every known capability for the live feed: tasks finished and failovers per second (differences
/// of the prometheus-net counters <c>/metrics</c> exports), p50/p95 latency of the tasks completed in the second
/// (<see cref="TaskLatencyRecorder"/>) and the queue depth. The feed samples only while someone is subscribed
/// (<see cref="Start"/> .. <see cref="Stop"/>); the last <see cref="HistoryLength"/> samples of each capability are
/// kept, so a new subscriber sees the recent past. Memory is bounded by the capability labels (at most
/// <c>Aicp:MaxCapabilityLabels</c>) times the history. One lock: the sampler runs once per push interval and readers
/// copy a page of capabilities.
/// </summary>
internal sealed class CapabilityTrends(HubMetrics metrics, MetricLabels labels, AgentRegistry registry, TaskLatencyRecorder latency,
    TimeProvider time)
{
    /// <summary>Samples kept per capability: five minutes at one per second.</summary>
    public const int HistoryLength = 300;

    private readonly Dictionary<string, Track> _tracks = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private readonly long[] _scratch = new long[TaskLatencyRecorder.BucketCount];
    private long _tick;
    private long _lastTimestamp;
    private bool _baselined;

    /// <summary>The number of the newest sample (0 before the first).</summary>
    public long Tick
    {
        get
        {
            lock (_sync)
            {
                return _tick;
            }
        }
    }

    /// <summary>Starts listening to task latencies; the next <see cref="Sample"/> only takes a baseline.</summary>
    public void Start()
    {
        lock (_sync)
        {
            latency.Start();
            _baselined = false;
        }
    }

    /// <summary>Stops listening; the history stays.</summary>
    public void Stop() => latency.Stop();

    /// <summary>Takes one sample of every known capability (after a <see cref="Start"/>: the baseline only).</summary>
    public void Sample()
    {
        lock (_sync)
        {
            var now = time.GetTimestamp();
            var seconds = time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            _lastTimestamp = now;
            var baselineOnly = !_baselined || seconds <= 0;
            _baselined = true;
            if (!baselineOnly)
            {
                _tick++;
            }

            var at = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var method in labels.KnownCapabilities)
            {
                if (method == MetricLabels.Unknown)
                {
                    continue;
                }

                var series = metrics.ForMethod(method);
                double finished = 0;
                foreach (var child in series.Completed)
                {
                    finished += child.Value;
                }

                var failovers = series.Failovers.Value;
                latency.CopyCounts(method, _scratch);
                var queue = registry.GetPool(method)?.Waiters.Count ?? 0;
                if (!_tracks.TryGetValue(method, out var track))
                {
                    _tracks[method] = track = new Track();
                    track.Baseline(finished, failovers, _scratch);
                    continue; // a capability's first sample is its baseline
                }

                if (baselineOnly)
                {
                    track.Baseline(finished, failovers, _scratch);
                    continue;
                }

                track.Add(_tick, at, seconds, finished, failovers, _scratch, queue);
            }
        }
    }

    /// <summary>The samples of <paramref name="method"/> numbered above <paramref name="afterTick"/> (0: all kept), oldest first.</summary>
    public CapabilityTrend Trend(string method, long afterTick)
    {
        lock (_sync)
        {
            return _tracks.TryGetValue(method, out var track) ? track.Since(method, afterTick) : Empty(method);
        }
    }

    private static CapabilityTrend Empty(string method) => new()
    {
        Method = method, T = [], TasksPerSecond = [], FailoversPerSecond = [], P50Ms = [], P95Ms = [], QueueDepth = [],
    };

    /// <summary>One capability's ring of samples and the counter values of its previous sample.</summary>
    private sealed class Track
    {
        private readonly long[] _ticks = new long[HistoryLength];
        private readonly long[] _at = new long[HistoryLength];
        private readonly double[] _tasks = new double[HistoryLength];
        private readonly double[] _failovers = new double[HistoryLength];
        private readonly double?[] _p50 = new double?[HistoryLength];
        private readonly double?[] _p95 = new double?[HistoryLength];
        private readonly int[] _queue = new int[HistoryLength];
        private readonly long[] _previousLatency = new long[TaskLatencyRecorder.BucketCount];
        private readonly long[] _delta = new long[TaskLatencyRecorder.BucketCount];
        private double _previousFinished;
        private double _previousFailovers;
        private int _count;
        private int _next;

        public void Baseline(double finished, double failovers, long[] latency)
        {
            _previousFinished = finished;
            _previousFailovers = failovers;
            latency.CopyTo(_previousLatency, 0);
        }

        public void Add(long tick, long at, double seconds, double finished, double failovers, long[] latency, int queue)
        {
            for (var i = 0; i < _delta.Length; i++)
            {
                _delta[i] = latency[i] - _previousLatency[i];
            }

            var slot = _next;
            _ticks[slot] = tick;
            _at[slot] = at;
            _tasks[slot] = Rate(finished - _previousFinished, seconds);
            _failovers[slot] = Rate(failovers - _previousFailovers, seconds);
            _p50[slot] = Round(TaskLatencyRecorder.Quantile(_delta, 0.50));
            _p95[slot] = Round(TaskLatencyRecorder.Quantile(_delta, 0.95));
            _queue[slot] = queue;
            _next = (_next + 1) % HistoryLength;
            _count = Math.Min(_count + 1, HistoryLength);
            Baseline(finished, failovers, latency);
        }

        public CapabilityTrend Since(string method, long afterTick)
        {
            var first = (_next - _count + HistoryLength) % HistoryLength;
            var skip = 0;
            while (skip < _count && _ticks[(first + skip) % HistoryLength] <= afterTick)
            {
                skip++;
            }

            var n = _count - skip;
            var trend = new CapabilityTrend
            {
                Method = method, T = new long[n], TasksPerSecond = new double[n], FailoversPerSecond = new double[n],
                P50Ms = new double?[n], P95Ms = new double?[n], QueueDepth = new int[n],
            };
            for (var i = 0; i < n; i++)
            {
                var slot = (first + skip + i) % HistoryLength;
                trend.T[i] = _at[slot];
                trend.TasksPerSecond[i] = _tasks[slot];
                trend.FailoversPerSecond[i] = _failovers[slot];
                trend.P50Ms[i] = _p50[slot];
                trend.P95Ms[i] = _p95[slot];
                trend.QueueDepth[i] = _queue[slot];
            }

            return trend;
        }

        private static double Rate(double delta, double seconds) => Math.Round(Math.Max(0, delta) / seconds, 2);

        private static double? Round(double? ms) => ms is { } value ? Math.Round(value, 3) : null;
    }
}
