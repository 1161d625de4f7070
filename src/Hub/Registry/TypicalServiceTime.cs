using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// The typical agent of one capability: the base and per-task latency of its agents' service-time models, averaged
/// over their samples (each sample moves it toward the fit of the agent that produced it) with the same decay tau.
/// Built from each agent's own fit rather than from one fit over everyone's samples, which would mistake "slow agents
/// are sent less" for "latency falls with load". It is what an agent's model leans on while its own evidence is thin.
/// One lock for writes (one per attempt end); lock-free reads.
/// </summary>
internal sealed class TypicalServiceTime(AgentHealthPolicy policy)
{
    private readonly object _gate = new();
    private double _weight;
    private double _base = double.NaN;
    private double _perTask = double.NaN;
    private long _stamp;

    /// <summary>Whether any agent of the capability has a sample.</summary>
    public bool HasValue => !double.IsNaN(Volatile.Read(ref _base));

    /// <summary>The typical intercept in milliseconds, or NaN before a sample.</summary>
    public double BaseMs => Volatile.Read(ref _base);

    /// <summary>The typical slope in milliseconds per task held, or NaN before a sample.</summary>
    public double PerTaskMs => Volatile.Read(ref _perTask);

    /// <summary>An agent's fit after one more sample.</summary>
    public void Update(double baseMs, double perTaskMs, long now)
    {
        lock (_gate)
        {
            var w = _weight == 0 ? 0 : _weight * Math.Exp(-Math.Max(0, now - _stamp) / policy.DecayTicks);
            _weight = w + 1;
            var blendedBase = double.IsNaN(_base) ? baseMs : (_base * w + baseMs) / _weight;
            var blendedPerTask = double.IsNaN(_perTask) ? perTaskMs : (_perTask * w + perTaskMs) / _weight;
            Volatile.Write(ref _stamp, now);
            Volatile.Write(ref _perTask, blendedPerTask);
            Volatile.Write(ref _base, blendedBase);
        }
    }
}
