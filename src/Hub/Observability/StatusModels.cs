using MessagePack;

namespace Aicp.Hub.Observability;

// The status API's shapes: the same records go out as JSON over HTTP (/v1/...) and as hub method results
// (GetAgents, GetCapabilities, GetRoutes, GetCapacity). camelCase on the wire, in JSON and (explicit keys) in
// MessagePack, where times are ISO 8601 strings as in JSON.

/// <summary>One live agent, as <c>GET /v1/agents</c> and the <c>GetAgents</c> hub method report it.</summary>
[MessagePackObject]
public sealed record AgentStatus
{
    [Key("id")]
    public required string Id { get; init; }
    [Key("capabilities")]
    public required IReadOnlyList<string> Capabilities { get; init; }
    [Key("pending")]
    public int Pending { get; init; }
    [Key("maxConcurrency")]
    public int MaxConcurrency { get; init; }
    [Key("draining")]
    public bool Draining { get; init; }
    [Key("healthy")]
    public bool Healthy { get; init; }
    [Key("trust")]
    public double Trust { get; init; }

    /// <summary>Moving-average latency per capability in ms, for capabilities with at least one sample.</summary>
    [Key("latencyMs")]
    public required IReadOnlyDictionary<string, double> LatencyMs { get; init; }

    /// <summary>Completed share of finished attempts (errors and timeouts count against), or null before any.</summary>
    [Key("successRate")]
    public double? SuccessRate { get; init; }

    /// <summary><c>closed</c>, <c>half-open</c> or <c>open</c>.</summary>
    [Key("circuitState")]
    public required string CircuitState { get; init; }

    [Key("completed")]
    public long Completed { get; init; }
    [Key("failed")]
    public long Failed { get; init; }
    [Key("timedOut")]
    public long TimedOut { get; init; }
    [Key("connectedAt")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset ConnectedAt { get; init; }
    [Key("lastCompletion")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset? LastCompletion { get; init; }
    [Key("metadata")]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The agent's latest <c>ReportLoad</c> (own queue depth, free slots, GPU readings), or null if it never reported.</summary>
    [Key("reportedLoad")]
    public ReportedLoadStatus? ReportedLoad { get; init; }
}

/// <summary>What an agent last said about its own load, and when the hub received it.</summary>
[MessagePackObject]
public sealed record ReportedLoadStatus
{
    [Key("queueDepth")]
    public int? QueueDepth { get; init; }
    [Key("freeSlots")]
    public int? FreeSlots { get; init; }
    [Key("gpus")]
    public IReadOnlyList<Aicp.Protocol.GpuTelemetry>? Gpus { get; init; }
    [Key("receivedAt")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>One known capability, as <c>GET /v1/capabilities</c> and <c>GetCapabilities</c> report it.</summary>
[MessagePackObject]
public sealed record CapabilityStatus
{
    [Key("method")]
    public required string Method { get; init; }
    [Key("agents")]
    public int Agents { get; init; }
    [Key("healthyAgents")]
    public int HealthyAgents { get; init; }
    [Key("queueDepth")]
    public int QueueDepth { get; init; }
    [Key("pending")]
    public int Pending { get; init; }
    [Key("capacitySlots")]
    public int CapacitySlots { get; init; }
    [Key("defaultStrategy")]
    public required string DefaultStrategy { get; init; }

    /// <summary>True when listed in <c>Aicp:ExpectedCapabilities</c>.</summary>
    [Key("expected")]
    public bool Expected { get; init; }
}

/// <summary>One routing decision (one attempt), as <c>GET /v1/routes</c> and <c>GetRoutes</c> report it.</summary>
[MessagePackObject]
public sealed record RouteRecord
{
    /// <summary>Position in the hub's sequence of decisions since start (1 is the first).</summary>
    [Key("sequence")]
    public long Sequence { get; init; }
    [Key("at")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset At { get; init; }
    [Key("taskId")]
    public required string TaskId { get; init; }
    [Key("attempt")]
    public int Attempt { get; init; }
    [Key("method")]
    public required string Method { get; init; }
    [Key("strategy")]
    public string? Strategy { get; init; }

    /// <summary>Agents that were eligible when the choice was made.</summary>
    [Key("candidates")]
    public int Candidates { get; init; }
    [Key("agentId")]
    public required string AgentId { get; init; }

    /// <summary>The chosen agent's score inputs at pick time: pending count, latency estimate (ms) and trust.</summary>
    [Key("inputs")]
    public required RouteScoreInputs Inputs { get; init; }
    [Key("outcome")]
    public required string Outcome { get; init; }
    [Key("errorCode")]
    public string? ErrorCode { get; init; }
    [Key("ms")]
    public double Ms { get; init; }
}

/// <summary>What the strategy saw of the chosen agent.</summary>
[MessagePackObject]
public sealed record RouteScoreInputs(
    [property: Key("pending")] int Pending,
    [property: Key("latencyEstimateMs")] double LatencyEstimateMs,
    [property: Key("trust")] double Trust);

/// <summary>The capacity plan for one capability over the sliding window (<c>GET /v1/capacity</c>, <c>GetCapacity</c>).</summary>
[MessagePackObject]
public sealed record CapacityPlan
{
    [Key("method")]
    public required string Method { get; init; }

    /// <summary>Seconds of history the figures cover (the window, or less just after start).</summary>
    [Key("windowSeconds")]
    public double WindowSeconds { get; init; }

    /// <summary>Tasks submitted per second (lambda).</summary>
    [Key("arrivalRatePerSecond")]
    public double ArrivalRatePerSecond { get; init; }

    /// <summary>Mean time an agent slot is busy with one attempt, in seconds (W).</summary>
    [Key("meanServiceSeconds")]
    public double MeanServiceSeconds { get; init; }

    /// <summary>Little's law: mean attempts in service, L = lambda * W.</summary>
    [Key("offeredLoad")]
    public double OfferedLoad { get; init; }

    [Key("agents")]
    public int Agents { get; init; }

    /// <summary>Sum of the healthy agents' maxConcurrency.</summary>
    [Key("capacitySlots")]
    public int CapacitySlots { get; init; }

    /// <summary>OfferedLoad / CapacitySlots; null when there is no capacity.</summary>
    [Key("utilization")]
    public double? Utilization { get; init; }

    [Key("targetUtilization")]
    public double TargetUtilization { get; init; }

    /// <summary>Agents (of the current mean maxConcurrency, or 1 slot each when none is connected) needed to stay under the target.</summary>
    [Key("agentsNeeded")]
    public int AgentsNeeded { get; init; }

    /// <summary>AgentsNeeded - Agents: positive means add that many, negative means that many could go.</summary>
    [Key("agentDelta")]
    public int AgentDelta { get; init; }

    /// <summary><c>ok</c>, <c>scale_up</c>, <c>scale_down</c> or <c>idle</c>.</summary>
    [Key("advice")]
    public required string Advice { get; init; }
}

/// <summary>
/// The hub's totals since start, as <c>GET /v1/stats</c> and the MCP tool <c>gateway_stats</c> report them (JSON only).
/// </summary>
public sealed record HubStats
{
    /// <summary><c>submitted</c>, the count of each final status, then failovers, hedges, late completions and the other task counters.</summary>
    public required IReadOnlyDictionary<string, long> Tasks { get; init; }

    /// <summary>Attempts sent to this node's agents (for its own tasks or for other nodes') and not yet answered.</summary>
    public int InFlight { get; init; }

    /// <summary>Attempts this node sent to other nodes' agents and not yet answered (0 on a hub that is not a node of a cluster).</summary>
    public int RemoteInFlight { get; init; }

    /// <summary>Live agents.</summary>
    public int Agents { get; init; }

    /// <summary>Security events per kind (<c>aicp_security_events_total</c>).</summary>
    public required IReadOnlyDictionary<string, long> SecurityEvents { get; init; }

    /// <summary>Requests per front door and outcome (<c>aicp_front_door_requests_total</c>); outcomes never seen are left out.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> FrontDoors { get; init; }
}
