namespace Aicp.Hub.Observability;

// The status API's shapes: the same records go out as JSON over HTTP (/v1/...) and as hub method results
// (GetAgents, GetCapabilities, GetRoutes, GetCapacity). camelCase on the wire.

/// <summary>One live agent, as <c>GET /v1/agents</c> and the <c>GetAgents</c> hub method report it.</summary>
public sealed record AgentStatus
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Capabilities { get; init; }
    public int Pending { get; init; }
    public int MaxConcurrency { get; init; }
    public bool Draining { get; init; }
    public bool Healthy { get; init; }
    public double Trust { get; init; }

    /// <summary>Moving-average latency per capability in ms, for capabilities with at least one sample.</summary>
    public required IReadOnlyDictionary<string, double> LatencyMs { get; init; }

    /// <summary>Completed share of finished attempts (errors and timeouts count against), or null before any.</summary>
    public double? SuccessRate { get; init; }

    /// <summary><c>closed</c>, <c>half-open</c> or <c>open</c>.</summary>
    public required string CircuitState { get; init; }

    public long Completed { get; init; }
    public long Failed { get; init; }
    public long TimedOut { get; init; }
    public DateTimeOffset ConnectedAt { get; init; }
    public DateTimeOffset? LastCompletion { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The agent's latest <c>ReportLoad</c> (own queue depth, free slots, GPU readings), or null if it never reported.</summary>
    public ReportedLoadStatus? ReportedLoad { get; init; }
}

/// <summary>What an agent last said about its own load, and when the hub received it.</summary>
public sealed record ReportedLoadStatus
{
    public int? QueueDepth { get; init; }
    public int? FreeSlots { get; init; }
    public IReadOnlyList<Aicp.Protocol.GpuTelemetry>? Gpus { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>One known capability, as <c>GET /v1/capabilities</c> and <c>GetCapabilities</c> report it.</summary>
public sealed record CapabilityStatus
{
    public required string Method { get; init; }
    public int Agents { get; init; }
    public int HealthyAgents { get; init; }
    public int QueueDepth { get; init; }
    public int Pending { get; init; }
    public int CapacitySlots { get; init; }
    public required string DefaultStrategy { get; init; }

    /// <summary>True when listed in <c>Aicp:ExpectedCapabilities</c>.</summary>
    public bool Expected { get; init; }
}

/// <summary>One routing decision (one attempt), as <c>GET /v1/routes</c> and <c>GetRoutes</c> report it.</summary>
public sealed record RouteRecord
{
    /// <summary>Position in the hub's sequence of decisions since start (1 is the first).</summary>
    public long Sequence { get; init; }
    public DateTimeOffset At { get; init; }
    public required string TaskId { get; init; }
    public int Attempt { get; init; }
    public required string Method { get; init; }
    public string? Strategy { get; init; }

    /// <summary>Agents that were eligible when the choice was made.</summary>
    public int Candidates { get; init; }
    public required string AgentId { get; init; }

    /// <summary>The chosen agent's score inputs at pick time: pending count, latency estimate (ms) and trust.</summary>
    public required RouteScoreInputs Inputs { get; init; }
    public required string Outcome { get; init; }
    public string? ErrorCode { get; init; }
    public double Ms { get; init; }
}

/// <summary>What the strategy saw of the chosen agent.</summary>
public sealed record RouteScoreInputs(int Pending, double LatencyEstimateMs, double Trust);

/// <summary>The capacity plan for one capability over the sliding window (<c>GET /v1/capacity</c>, <c>GetCapacity</c>).</summary>
public sealed record CapacityPlan
{
    public required string Method { get; init; }

    /// <summary>Seconds of history the figures cover (the window, or less just after start).</summary>
    public double WindowSeconds { get; init; }

    /// <summary>Tasks submitted per second (lambda).</summary>
    public double ArrivalRatePerSecond { get; init; }

    /// <summary>Mean time an agent slot is busy with one attempt, in seconds (W).</summary>
    public double MeanServiceSeconds { get; init; }

    /// <summary>Little's law: mean attempts in service, L = lambda * W.</summary>
    public double OfferedLoad { get; init; }

    public int Agents { get; init; }

    /// <summary>Sum of the healthy agents' maxConcurrency.</summary>
    public int CapacitySlots { get; init; }

    /// <summary>OfferedLoad / CapacitySlots; null when there is no capacity.</summary>
    public double? Utilization { get; init; }

    public double TargetUtilization { get; init; }

    /// <summary>Agents (of the current mean maxConcurrency, or 1 slot each when none is connected) needed to stay under the target.</summary>
    public int AgentsNeeded { get; init; }

    /// <summary>AgentsNeeded - Agents: positive means add that many, negative means that many could go.</summary>
    public int AgentDelta { get; init; }

    /// <summary><c>ok</c>, <c>scale_up</c>, <c>scale_down</c> or <c>idle</c>.</summary>
    public required string Advice { get; init; }
}
