namespace Aicp.Hub.Configuration;

/// <summary>
/// How the hub judges an agent's latency and health: the peak-EWMA latency estimate, slow start and the
/// circuit breaker. Bound from <c>Aicp:Health</c>; every default is in <see cref="AgentHealthDefaults"/>.
/// </summary>
public sealed class AgentHealthOptions
{
    /// <summary>Decay time (tau) of the peak-EWMA latency estimate. The default value is 10 s.</summary>
    public TimeSpan LatencyDecay { get; set; } = AgentHealthDefaults.LatencyDecay;

    /// <summary>Latency assumed for an agent with no history on a method. The default value is 30 ms.</summary>
    public double DefaultLatencyMs { get; set; } = AgentHealthDefaults.DefaultLatencyMs;

    /// <summary>How long a new or recovered agent takes to ramp up to its full share. The default value is 10 s; zero turns slow start off.</summary>
    public TimeSpan SlowStartWindow { get; set; } = AgentHealthDefaults.SlowStartWindow;

    /// <summary>Share factor at the start of the slow-start window, in (0, 1]. The default value is 0.1.</summary>
    public double SlowStartFloor { get; set; } = AgentHealthDefaults.SlowStartFloor;

    /// <summary>Consecutive failures (errors or timeouts) that open the circuit. The default value is 5.</summary>
    public int ConsecutiveFailures { get; set; } = AgentHealthDefaults.ConsecutiveFailures;

    /// <summary>Failure ratio over <see cref="SamplingDuration"/> that opens the circuit. The default value is 0.5.</summary>
    public double FailureRatio { get; set; } = AgentHealthDefaults.FailureRatio;

    /// <summary>Attempts within <see cref="SamplingDuration"/> before the ratio counts. The default value is 10.</summary>
    public int MinimumThroughput { get; set; } = AgentHealthDefaults.MinimumThroughput;

    /// <summary>The rolling window of outcomes (failure ratio and success rate). The default value is 30 s.</summary>
    public TimeSpan SamplingDuration { get; set; } = AgentHealthDefaults.SamplingDuration;

    /// <summary>How long an opened circuit stays open the first time. The default value is 30 s.</summary>
    public TimeSpan BreakDuration { get; set; } = AgentHealthDefaults.BreakDuration;

    /// <summary>Upper bound of the break, which doubles on each re-open from half-open. The default value is 5 min.</summary>
    public TimeSpan MaxBreakDuration { get; set; } = AgentHealthDefaults.MaxBreakDuration;
}

/// <summary>The defaults of <see cref="AgentHealthOptions"/>, in one place.</summary>
public static class AgentHealthDefaults
{
    /// <summary>Finagle's and Linkerd's peak-EWMA decay time.</summary>
    public static readonly TimeSpan LatencyDecay = TimeSpan.FromSeconds(10);

    /// <summary>Linkerd's default latency for an endpoint with no history.</summary>
    public const double DefaultLatencyMs = 30;

    public static readonly TimeSpan SlowStartWindow = TimeSpan.FromSeconds(10);

    public const double SlowStartFloor = 0.1;

    /// <summary>Envoy's outlier-detection default.</summary>
    public const int ConsecutiveFailures = 5;

    public const double FailureRatio = 0.5;

    public const int MinimumThroughput = 10;

    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);

    /// <summary>Envoy's base ejection time.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    /// <summary>Envoy's maximum ejection time.</summary>
    public static readonly TimeSpan MaxBreakDuration = TimeSpan.FromMinutes(5);
}
