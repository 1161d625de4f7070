using Aicp.Hub.Configuration;

namespace Aicp.Hub.Health;

/// <summary>
/// <see cref="AgentHealthOptions"/> turned into the clock's timestamp units once, shared by every agent.
/// All durations here are in <see cref="TimeProvider.GetTimestamp"/> ticks of <see cref="Time"/>.
/// </summary>
internal sealed class AgentHealthPolicy
{
    public AgentHealthPolicy(AgentHealthOptions options, TimeProvider time)
    {
        Time = time;
        var perSecond = (double)time.TimestampFrequency;
        DecayTicks = Math.Max(1, options.LatencyDecay.TotalSeconds * perSecond);
        MsPerTick = 1000.0 / perSecond;
        DefaultLatencyMs = options.DefaultLatencyMs;
        SlowStartTicks = (long)(options.SlowStartWindow.TotalSeconds * perSecond);
        SlowStartFloor = options.SlowStartFloor;
        ConsecutiveFailures = options.ConsecutiveFailures;
        FailureRatio = options.FailureRatio;
        MinimumThroughput = options.MinimumThroughput;
        SamplingTicks = Math.Max(1, (long)(options.SamplingDuration.TotalSeconds * perSecond));
        BreakTicks = (long)(options.BreakDuration.TotalSeconds * perSecond);
        MaxBreakTicks = Math.Max(BreakTicks, (long)(options.MaxBreakDuration.TotalSeconds * perSecond));
    }

    /// <summary>Defaults on the system clock (agents built outside the registry, e.g. in unit tests).</summary>
    public static AgentHealthPolicy Default { get; } = new(new AgentHealthOptions(), TimeProvider.System);

    public TimeProvider Time { get; }

    /// <summary>Told of every stored circuit transition of the agents on this policy (set once by the registry).</summary>
    public Action<CircuitTransition>? Transitioned { get; set; }

    public double DecayTicks { get; }

    /// <summary>Milliseconds per timestamp tick of <see cref="Time"/>.</summary>
    public double MsPerTick { get; }

    public double DefaultLatencyMs { get; }

    public long SlowStartTicks { get; }

    public double SlowStartFloor { get; }

    public int ConsecutiveFailures { get; }

    public double FailureRatio { get; }

    public int MinimumThroughput { get; }

    public long SamplingTicks { get; }

    public long BreakTicks { get; }

    public long MaxBreakTicks { get; }

    /// <summary>Share factor in [floor, 1] for an agent that became active at <paramref name="activeSince"/>.</summary>
    public double SlowStart(long activeSince, long now)
    {
        if (SlowStartTicks <= 0)
        {
            return 1;
        }

        var elapsed = now - activeSince;
        // Stryker disable once Equality : at exactly the window's end the ramp gives elapsed / window = 1 as well
        return elapsed >= SlowStartTicks ? 1 : Math.Max(SlowStartFloor, (double)elapsed / SlowStartTicks);
    }
}
