using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>What a strategy sees for one decision: the pool's snapshot and the task's exclusions.</summary>
internal readonly ref struct RoutingContext
{
    private readonly ReadOnlySpan<string> _excluded;

    public RoutingContext(CapabilityPool pool, ReadOnlySpan<AgentState> agents, ReadOnlySpan<string> excluded, IRandomSource random)
    {
        Pool = pool;
        Agents = agents;
        _excluded = excluded;
        Random = random;
    }

    public CapabilityPool Pool { get; }

    public ReadOnlySpan<AgentState> Agents { get; }

    public IRandomSource Random { get; }

    public string Method => Pool.Method;

    /// <summary>Not already tried by this task, not draining or gone, and below its concurrency limit.</summary>
    public bool IsEligible(AgentState agent)
    {
        if (!agent.HasFreeSlot)
        {
            return false;
        }

        foreach (var id in _excluded)
        {
            if (string.Equals(id, agent.AgentId, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether any agent not yet tried by this task is serving (free or busy).</summary>
    public bool HasUntriedAgent()
    {
        foreach (var agent in Agents)
        {
            if (agent.IsDraining || agent.IsRemoved)
            {
                continue;
            }

            var tried = false;
            foreach (var id in _excluded)
            {
                if (string.Equals(id, agent.AgentId, StringComparison.Ordinal))
                {
                    tried = true;
                    break;
                }
            }

            if (!tried)
            {
                return true;
            }
        }

        return false;
    }
}
