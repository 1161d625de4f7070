namespace Aicp.Hub.Health;

/// <summary>The states of an agent's circuit breaker.</summary>
internal enum CircuitState
{
    /// <summary>Healthy: takes tasks.</summary>
    Closed,

    /// <summary>Broken: takes no tasks (unless every agent of the capability is open) until the break ends.</summary>
    Open,

    /// <summary>The break ended: one probe task may go through; its outcome closes or re-opens the circuit.</summary>
    HalfOpen,
}

/// <summary>Wire names of <see cref="CircuitState"/> (route entries, status endpoint).</summary>
internal static class CircuitStateNames
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";

    public static string Of(CircuitState state) => state switch
    {
        CircuitState.Open => Open,
        CircuitState.HalfOpen => HalfOpen,
        _ => Closed,
    };
}
