using Aicp.Hub.Health;

namespace Aicp.Hub.Registry;

/// <summary>
/// The live agents serving one capability, as an immutable array swapped whole on every change, so routing reads it
/// without a lock; the capability's wait queue; and its typical agent, which each agent's service-time model leans on
/// while its own evidence is thin. Strategies keep their own per-capability state.
/// </summary>
internal sealed class CapabilityPool
{
    private volatile AgentState[] _agents = [];

    public CapabilityPool(string method, int maxQueued, AgentHealthPolicy? policy = null)
    {
        Method = method;
        Waiters = new SlotWaitQueue(maxQueued);
        Typical = new TypicalServiceTime(policy ?? AgentHealthPolicy.Default);
    }

    public string Method { get; }

    /// <summary>The typical agent of the capability, which each agent's service-time model leans on.</summary>
    public TypicalServiceTime Typical { get; }

    /// <summary>The current snapshot. Never mutated; replaced under the registry's lock.</summary>
    public AgentState[] Agents => _agents;

    /// <summary>Tasks waiting for a free slot on this capability.</summary>
    public SlotWaitQueue Waiters { get; }

    internal void Replace(AgentState[] agents) => _agents = agents;
}
