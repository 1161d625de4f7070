namespace Aicp.Hub.FrontDoors.Mcp;

/// <summary>What the MCP tool <c>health_check</c> answers: readiness as <c>/readyz</c> decides it, and the fleet per capability.</summary>
internal sealed record McpHealthReport
{
    /// <summary><c>Healthy</c>, <c>Degraded</c> or <c>Unhealthy</c>: the readiness check's status.</summary>
    public required string Status { get; init; }

    /// <summary>Whether <c>/readyz</c> answers 200 (Healthy or Degraded); false when it answers 503.</summary>
    public bool Ready { get; init; }

    public string? Description { get; init; }

    public required IReadOnlyList<string> CapabilitiesWithoutHealthyAgents { get; init; }

    /// <summary>Live agents.</summary>
    public int Agents { get; init; }

    public required IReadOnlyList<McpCapabilityHealth> Capabilities { get; init; }
}

/// <summary>One known capability in <see cref="McpHealthReport"/>.</summary>
internal sealed record McpCapabilityHealth
{
    public required string Method { get; init; }

    public int Agents { get; init; }

    public int HealthyAgents { get; init; }

    /// <summary>The capability's agents by circuit state (<c>closed</c>, <c>half-open</c>, <c>open</c>); states no agent is in are left out.</summary>
    public required IReadOnlyDictionary<string, int> Circuits { get; init; }
}
