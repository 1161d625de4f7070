using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

/// <summary>Circuit-breaker state as exported: <c>aicp_agent_circuit_state</c> 0 closed, 1 half-open, 2 open.</summary>
internal enum CircuitStateValue
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// The per-agent values that metrics, status and readiness read, in one place. Some of them belong to routing
/// work in progress elsewhere (circuit breakers, success rate); each has one accessor here that reads what
/// <see cref="AgentState"/> offers today, so wiring the real value in later is a one-line change per accessor.
/// </summary>
internal static class AgentSignals
{
    /// <summary>
    /// The agent's circuit-breaker state. No breaker exists yet, so every agent reports <see cref="CircuitStateValue.Closed"/>;
    /// extend here when AgentState gains its breaker.
    /// </summary>
    public static CircuitStateValue CircuitState(AgentState agent) => CircuitStateValue.Closed;

    /// <summary>
    /// Share of the agent's finished attempts that completed (errors and timeouts count against it), or null before
    /// the first one. Lifetime counts today; replace with the windowed rate when AgentState tracks one.
    /// </summary>
    public static double? SuccessRate(AgentState agent)
    {
        var completed = agent.Completed;
        var total = completed + agent.Failed + agent.TimedOut;
        return total == 0 ? null : (double)completed / total;
    }

    /// <summary>The agent's latency estimate for a method in milliseconds (EWMA today; peak-EWMA when routing lands), or null before a sample.</summary>
    public static double? LatencyMs(AgentState agent, string method) =>
        agent.LatencyFor(method) is { HasValue: true } estimate ? estimate.Milliseconds : null;

    /// <summary>Whether routing may send the agent new work: connected, not draining, breaker not open.</summary>
    public static bool IsHealthy(AgentState agent) =>
        !agent.IsRemoved && !agent.IsDraining && CircuitState(agent) != CircuitStateValue.Open;
}
