using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// How long one agent takes to finish a task of one capability, as a function of how much work it already holds:
/// <c>latency(load) = base + perTask x load</c>, where load is the agent's pending count plus its reported queue when
/// the task was sent. An agent that works one task at a time shows <c>perTask ~ base</c> (each task ahead adds one
/// service time, as in an M/M/1 queue); an agent that runs many tasks in parallel without slowing (a batching model
/// server, an I/O-bound tool) shows <c>perTask ~ 0</c>; anything in between is a partial slope.
/// <para>
/// Learned online by exponentially weighted least squares of latency on load at dispatch: each sample enters five
/// running sums that decay by <c>w = exp(-dt/tau)</c> (tau = <c>Aicp:Health:LatencyDecay</c>, 10 s) since the previous
/// sample, so the fit follows the agent's last tens of seconds. The slope is shrunk, with a pseudo-variance of
/// <see cref="SlopePriorWeight"/>, toward the capability's typical slope (<see cref="TypicalServiceTime"/>), or toward
/// one task at a time (<c>perTask = base</c>) while the capability has no history: an agent seen at one load only is
/// assumed to behave like its peers, and it takes a spread of loads to show otherwise. Slopes below zero are cut to zero.
/// </para>
/// <para>
/// Few samples say little, so when read the base and the slope are also shrunk toward the typical agent's, with the
/// weight of <see cref="PriorWeight"/> samples against the agent's own evidence decayed to the time of the read, but
/// only where that makes the agent look better (optimism under uncertainty). An agent without samples is taken to be
/// the typical agent; one avoided for a bad number drifts back to it as its evidence fades, so it is tried again (the
/// role the decay toward zero plays in Finagle's peak EWMA), and a few unlucky samples cannot price a rarely used agent
/// out for long. An agent whose few samples look better than its peers is believed, not pulled back toward them: it is
/// sent work, which tests the belief, instead of being starved while better-known peers take everything (the rich get
/// richer). Without any history in the capability: the default latency, one task at a time.
/// </para>
/// <para>
/// Writes (one per attempt end) take a private lock; reads are lock-free and may see the fields of two different
/// writes, which bends one prediction slightly.
/// </para>
/// </summary>
internal sealed class ServiceTimeModel(AgentHealthPolicy policy, TypicalServiceTime? typical = null)
{
    /// <summary>Weight of the slope's prior, in units of load variance: 0.25.</summary>
    public const double SlopePriorWeight = 0.25;

    /// <summary>Weight of the typical agent's base against the agent's own, in samples: 5.</summary>
    public const double PriorWeight = 5;

    private readonly object _gate = new();
    private double _weight;
    private double _sumLoad;
    private double _sumLatency;
    private double _sumLoadSquared;
    private double _sumLoadLatency;
    private double _base = double.NaN;
    private double _perTask;
    private long _stamp;

    public ServiceTimeModel()
        : this(AgentHealthPolicy.Default)
    {
    }

    /// <summary>The capability's typical agent, which this model leans on and feeds; null outside a pool.</summary>
    public TypicalServiceTime? Typical { get; set; } = typical;

    /// <summary>Whether the model has seen a sample.</summary>
    public bool HasValue => !double.IsNaN(Volatile.Read(ref _base));

    /// <summary>Milliseconds a task takes when it finds the agent idle (the fit's intercept), or NaN before a sample.</summary>
    public double BaseMs => Volatile.Read(ref _base);

    /// <summary>Milliseconds each task already held adds (the fit's slope, at least 0).</summary>
    public double PerTaskMs => Volatile.Read(ref _perTask);

    /// <summary>The weight of the samples behind the fit, decayed to <paramref name="now"/> (about the samples of the last tau).</summary>
    public double Evidence(long now)
    {
        var weight = Volatile.Read(ref _weight);
        var x = (now - Volatile.Read(ref _stamp)) / policy.DecayTicks;
        if (weight == 0 || x <= 0)
        {
            return weight;
        }

        // An agent sampled within the last 1/64 tau (the common case in a busy pool): exp(-x) ~ 1 - x, within 0.01%.
        return x < 1.0 / 64 ? weight * (1 - x) : weight * Math.Exp(-x);
    }

    /// <summary>
    /// The predicted latency in milliseconds of a task sent now to an agent holding <paramref name="load"/> tasks:
    /// <c>base' + perTask' x load</c>, where <c>base'</c> and <c>perTask'</c> are the agent's fit shrunk toward the typical
    /// agent's by the evidence behind it, where that is lower. Without samples: the typical agent, or the default latency one task at a time.
    /// </summary>
    public double Predict(int load, long now, int maxConcurrency = int.MaxValue)
    {
        var typical = Typical;
        var typicalBase = typical?.BaseMs ?? double.NaN;
        var baseMs = Volatile.Read(ref _base);
        if (double.IsNaN(baseMs))
        {
            return double.IsNaN(typicalBase)
                ? policy.DefaultLatencyMs * (load + 1)
                : typicalBase + Math.Max(typical!.PerTaskMs, typicalBase / maxConcurrency) * load;
        }

        var perTask = Volatile.Read(ref _perTask);
        if (!double.IsNaN(typicalBase))
        {
            // Shrunk toward the typical agent only where that is better: optimism under uncertainty. An agent whose
            // own few samples look better than its peers is believed (and sent work, which tests the belief); one whose
            // few samples look worse is not priced out on them.
            var evidence = Evidence(now);
            baseMs = Math.Min(baseMs, (evidence * baseMs + PriorWeight * typicalBase) / (evidence + PriorWeight));
            perTask = Math.Min(perTask, (evidence * perTask + PriorWeight * typical!.PerTaskMs) / (evidence + PriorWeight));
        }

        return baseMs + Math.Max(perTask, baseMs / maxConcurrency) * load;
    }

    /// <summary>
    /// A task sent when the agent held <paramref name="load"/> tasks ended after <paramref name="latencyMs"/>. The
    /// sample counts <paramref name="weight"/> (0 .. 1) samples: less while the agent is warming up (its slow start),
    /// so a newly connected agent's first, slow answers (JIT, cold caches) do not price it out of the pool for long.
    /// </summary>
    public void Record(double latencyMs, int load, long now, double weight = 1)
    {
        weight = Math.Clamp(weight, 0.01, 1);
        double baseMs, perTask;
        lock (_gate)
        {
            var w = double.IsNaN(_base) ? 0 : Math.Exp(-Math.Max(0, now - _stamp) / policy.DecayTicks);
            _weight = _weight * w + weight;
            _sumLoad = _sumLoad * w + (weight * load);
            _sumLatency = _sumLatency * w + (weight * latencyMs);
            _sumLoadSquared = _sumLoadSquared * w + (weight * load * load);
            _sumLoadLatency = _sumLoadLatency * w + (weight * load * latencyMs);

            var meanLoad = _sumLoad / _weight;
            var meanLatency = _sumLatency / _weight;
            var variance = Math.Max(0, _sumLoadSquared / _weight - meanLoad * meanLoad);
            var covariance = _sumLoadLatency / _weight - meanLoad * meanLatency;

            var typicalPerTask = Typical?.PerTaskMs ?? double.NaN;
            if (double.IsNaN(typicalPerTask))
            {
                // Toward one task at a time: perTask = (covariance + k x base) / (variance + k) with
                // base = meanLatency - perTask x meanLoad, solved for perTask.
                perTask = (covariance + SlopePriorWeight * meanLatency) / (variance + SlopePriorWeight * (1 + meanLoad));
            }
            else
            {
                perTask = (covariance + SlopePriorWeight * typicalPerTask) / (variance + SlopePriorWeight);
            }

            perTask = Math.Max(0, perTask);
            baseMs = Math.Max(meanLatency - perTask * meanLoad, 0.05 * meanLatency);
            Volatile.Write(ref _stamp, now);
            Volatile.Write(ref _perTask, perTask);
            Volatile.Write(ref _base, baseMs);
        }

        Typical?.Update(baseMs, perTask, now);
    }
}
