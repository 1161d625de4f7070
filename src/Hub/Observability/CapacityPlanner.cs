using System.Collections.Concurrent;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>
/// Per-capability arrivals and agent busy time over a sliding window (one-second buckets, clock from the injected
/// <see cref="TimeProvider"/>), turned into a capacity plan with Little's law: the mean number of agent slots busy
/// is L = lambda * W (W: agent slot time per task, failovers included), utilization is L over the healthy agents' slots, and the plan sizes the
/// fleet so utilization stays under the target (70% by default). Only known capabilities are tracked (bounded).
/// Each window takes a short lock per record; the critical section is a few additions.
/// </summary>
internal sealed class CapacityPlanner
{
    public const string AdviceOk = "ok";
    public const string AdviceScaleUp = "scale_up";
    public const string AdviceScaleDown = "scale_down";
    public const string AdviceIdle = "idle";

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly AgentRegistry _registry;
    private readonly MetricLabels _labels;
    private readonly int _windowSeconds;
    private readonly double _target;
    private readonly DateTimeOffset _started;

    public CapacityPlanner(TimeProvider time, AgentRegistry registry, MetricLabels labels, IOptions<ObservabilityOptions> options)
    {
        _time = time;
        _registry = registry;
        _labels = labels;
        _windowSeconds = options.Value.CapacityWindowSeconds;
        _target = options.Value.CapacityTargetUtilization;
        _started = time.GetUtcNow();
    }

    /// <summary>A task for a known capability arrived (<paramref name="methodLabel"/> is already normalized).</summary>
    public void TaskArrived(string methodLabel)
    {
        if (methodLabel != MetricLabels.Unknown)
        {
            GetWindow(methodLabel).Add(Now(), arrivals: 1, attempts: 0, busySeconds: 0);
        }
    }

    /// <summary>An attempt released its agent slot after <paramref name="busySeconds"/>.</summary>
    public void AttemptEnded(string methodLabel, double busySeconds)
    {
        if (methodLabel != MetricLabels.Unknown)
        {
            GetWindow(methodLabel).Add(Now(), arrivals: 0, attempts: 1, busySeconds: busySeconds);
        }
    }

    /// <summary>The plan for every known capability, ordered by name.</summary>
    public IReadOnlyList<CapacityPlan> Plan()
    {
        var now = Now();
        var covered = Math.Clamp((_time.GetUtcNow() - _started).TotalSeconds, 1, _windowSeconds);
        var plans = new List<CapacityPlan>();
        foreach (var method in _labels.KnownCapabilities)
        {
            var (arrivals, attempts, busy) = _windows.TryGetValue(method, out var window) ? window.Sum(now, _windowSeconds) : (0, 0, 0.0);
            var agents = _registry.GetPool(method)?.Agents ?? [];
            var healthy = agents.Where(AgentSignals.IsHealthy).ToArray();
            var slots = healthy.Sum(a => a.MaxConcurrency);
            var slotsPerAgent = agents.Length == 0 ? 1.0 : agents.Average(a => (double)a.MaxConcurrency);

            // Little's law over the window: L (mean busy slots) = lambda * W, with W the slot time per task
            // (all its attempts, failovers included), measured as busy slot-seconds over the tasks that arrived.
            var lambda = arrivals / covered;
            var meanService = arrivals > 0 ? busy / arrivals : attempts > 0 ? busy / attempts : 0;
            var offered = busy / covered;
            var needed = offered <= 0 ? 0 : (int)Math.Ceiling(offered / (_target * slotsPerAgent));
            if (arrivals > 0)
            {
                needed = Math.Max(needed, 1);
            }

            var delta = needed - agents.Length;
            plans.Add(new CapacityPlan
            {
                Method = method,
                WindowSeconds = Math.Round(covered, 3),
                ArrivalRatePerSecond = Math.Round(lambda, 6),
                MeanServiceSeconds = Math.Round(meanService, 6),
                OfferedLoad = Math.Round(offered, 6),
                Agents = agents.Length,
                CapacitySlots = slots,
                Utilization = slots == 0 ? null : Math.Round(offered / slots, 6),
                TargetUtilization = _target,
                AgentsNeeded = needed,
                AgentDelta = delta,
                Advice = arrivals == 0 && busy == 0 ? AdviceIdle : delta > 0 ? AdviceScaleUp : delta < 0 ? AdviceScaleDown : AdviceOk,
            });
        }

        return plans;
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    private Window GetWindow(string method) => _windows.GetOrAdd(method, static (_, size) => new Window(size), _windowSeconds);

    /// <summary>A ring of one-second buckets.</summary>
    private sealed class Window(int size)
    {
        private readonly long[] _second = new long[size];
        private readonly long[] _arrivals = new long[size];
        private readonly long[] _attempts = new long[size];
        private readonly double[] _busy = new double[size];

        public void Add(long now, long arrivals, long attempts, double busySeconds)
        {
            var i = (int)(now % size);
            lock (_second)
            {
                if (_second[i] != now)
                {
                    _second[i] = now;
                    _arrivals[i] = 0;
                    _attempts[i] = 0;
                    _busy[i] = 0;
                }

                _arrivals[i] += arrivals;
                _attempts[i] += attempts;
                _busy[i] += busySeconds;
            }
        }

        public (long Arrivals, long Attempts, double Busy) Sum(long now, int windowSeconds)
        {
            long arrivals = 0, attempts = 0;
            double busy = 0;
            lock (_second)
            {
                for (var i = 0; i < size; i++)
                {
                    if (_second[i] > now - windowSeconds && _second[i] <= now)
                    {
                        arrivals += _arrivals[i];
                        attempts += _attempts[i];
                        busy += _busy[i];
                    }
                }
            }

            return (arrivals, attempts, busy);
        }
    }
}
