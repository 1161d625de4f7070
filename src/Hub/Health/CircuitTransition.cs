namespace Aicp.Hub.Health;

/// <summary>A circuit breaker changed state: <paramref name="AgentId"/>'s circuit went from <paramref name="From"/> to <paramref name="To"/>.</summary>
/// <param name="Reopens">Times it re-opened since it last closed (the break doubles with each).</param>
/// <param name="BreakTicks">For a transition to open: how long it stays open, in timestamp ticks; 0 otherwise.</param>
internal readonly record struct CircuitTransition(string AgentId, CircuitState From, CircuitState To, int Reopens, long BreakTicks);
