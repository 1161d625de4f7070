using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Chooses one agent for a task from the candidates of a decision (<see cref="RoutingContext.Candidates"/>): every
/// candidate is already eligible (serving, untried, with a free slot, healthy unless in panic), so a strategy only
/// ranks. Implementations are singletons that must not allocate per pick; state they keep per capability (a
/// round-robin cursor) is their own.
/// </summary>
internal interface IRoutingStrategy
{
    /// <summary>The name tasks and configuration use, case-insensitive.</summary>
    string Name { get; }

    /// <summary>One of <see cref="RoutingContext.Candidates"/>, or null when there is none.</summary>
    AgentState? Pick(in RoutingContext context);
}
