using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

/// <summary>Circuit-breaker state as exported: <c>aicp_agent_circuit_state</c> 0 closed, 1 half-open, 2 open.</summary>
internal enum CircuitStateValue
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>The per-agent values that metrics, status and readiness read, in one place.</summary>
internal static class AgentSignals
{
    /// <summary>The agent's circuit-breaker state now.</summary>
    public static CircuitStateValue CircuitState(AgentState agent) => agent.Circuit.StateAt(agent.Policy.Time.GetTimestamp()) switch
    {
        Health.CircuitState.Open => CircuitStateValue.Open,
        Health.CircuitState.HalfOpen => CircuitStateValue.HalfOpen,
        _ => CircuitStateValue.Closed,
    };

    /// <summary>Share of the agent's attempts that succeeded over the breaker's rolling window (1 when the window is empty).</summary>
    public static double SuccessRate(AgentState agent) => agent.SuccessRate(agent.Policy.Time.GetTimestamp());

    /// <summary>The agent's peak-EWMA latency estimate for a method in milliseconds, or null before a sample.</summary>
    public static double? LatencyMs(AgentState agent, string method) =>
        agent.LatencyFor(method) is { HasValue: true } estimate ? estimate.Milliseconds : null;

    /// <summary>Whether routing may send the agent new work: connected, not draining, breaker not open.</summary>
    public static bool IsHealthy(AgentState agent) =>
        !agent.IsRemoved && !agent.IsDraining && CircuitState(agent) != CircuitStateValue.Open;
}
