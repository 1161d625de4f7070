namespace Aicp.Agent.Sdk.Client;

/// <summary>Per-task routing and retry settings; null fields take the hub's defaults.</summary>
public sealed class SubmitOptions
{
    /// <summary>The routing strategy; the hub's default for the capability when null.</summary>
    public RoutingStrategy? Strategy { get; init; }

    /// <summary>Per-attempt timeout (1 ms .. 10 min, whole milliseconds); the hub's default (30 s) when null.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Most attempts, each on a different agent (1 .. 10); the hub's default (3) when null.</summary>
    public int? MaxAttempts { get; init; }
}
