using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Picks one agent for a task from a capability's candidates. Implementations are stateless singletons
/// (per-capability state such as a round-robin cursor lives on the pool) and must not allocate.
/// </summary>
internal interface IRoutingStrategy
{
    /// <summary>The name tasks and configuration use, case-insensitive.</summary>
    string Name { get; }

    /// <summary>Returns an eligible agent (<see cref="RoutingContext.IsEligible"/>), or null when none is.</summary>
    AgentState? Pick(in RoutingContext context);
}
