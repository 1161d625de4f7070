using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// What a strategy sees for one decision: the pool's snapshot, the task's exclusions, the random source
/// and the time of the decision (<see cref="Now"/>, in the agents' clock's timestamp units).
/// Health filtering is "healthy or panic" (YARP): a pick considers only agents whose circuit admits a task;
/// when no untried serving agent's does, <see cref="Pick"/> retries with <see cref="Panic"/> set, and the
/// circuit is ignored.
/// </summary>
internal readonly ref struct RoutingContext
{
    private readonly ReadOnlySpan<string> _excluded;

    public RoutingContext(CapabilityPool pool, ReadOnlySpan<AgentState> agents, ReadOnlySpan<string> excluded, IRandomSource random,
        TimeProvider? time = null)
        : this(pool, agents, excluded, random, (time ?? TimeProvider.System).GetTimestamp(), panic: false)
    {
    }

    public RoutingContext(CapabilityPool pool, ReadOnlySpan<AgentState> agents, ReadOnlySpan<string> excluded, IRandomSource random,
        long now, bool panic)
    {
        Pool = pool;
        Agents = agents;
        _excluded = excluded;
        Random = random;
        Now = now;
        Panic = panic;
    }

    public CapabilityPool Pool { get; }

    public ReadOnlySpan<AgentState> Agents { get; }

    public IRandomSource Random { get; }

    public string Method => Pool.Method;

    /// <summary>The decision's time, a <see cref="TimeProvider.GetTimestamp"/> value of the agents' clock.</summary>
    public long Now { get; }

    /// <summary>No untried serving agent has a circuit that admits tasks: route among them anyway.</summary>
    public bool Panic { get; }

    /// <summary>
    /// Not already tried by this task, not draining or gone, below its concurrency limit, and (unless in
    /// panic) with a circuit that admits a task: closed, or half-open with its one probe free.
    /// </summary>
    public bool IsEligible(AgentState agent)
    {
        if (!agent.HasFreeSlot || IsExcluded(agent))
        {
            return false;
        }

        return Panic || agent.Circuit.Admits(Now);
    }

    /// <summary>
    /// The strategy's pick among healthy agents; when it finds none and no untried serving agent is healthy
    /// (every circuit open), its pick among all of them. Healthy agents that are merely full do not cause
    /// panic: the task waits for them.
    /// </summary>
    public AgentState? Pick(IRoutingStrategy strategy) => Pick(strategy, out _);

    /// <inheritdoc cref="Pick(IRoutingStrategy)"/>
    /// <param name="strategy">The strategy.</param>
    /// <param name="panicked">Whether the pick was made in panic (pass it on to <see cref="AgentState.TryAcquireSlot"/>).</param>
    public AgentState? Pick(IRoutingStrategy strategy, out bool panicked)
    {
        panicked = Panic;
        var agent = strategy.Pick(in this);
        if (agent is not null || Panic || HasHealthyUntriedAgent())
        {
            return agent;
        }

        panicked = true;
        var panic = new RoutingContext(Pool, Agents, _excluded, Random, Now, panic: true);
        return strategy.Pick(in panic);
    }

    /// <summary>Whether any agent not yet tried by this task is serving (free or busy).</summary>
    public bool HasUntriedAgent()
    {
        foreach (var agent in Agents)
        {
            if (!agent.IsDraining && !agent.IsRemoved && !IsExcluded(agent))
            {
                return true;
            }
        }

        return false;
    }

    private bool HasHealthyUntriedAgent()
    {
        foreach (var agent in Agents)
        {
            if (!agent.IsDraining && !agent.IsRemoved && !IsExcluded(agent) && agent.Circuit.Admits(Now))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsExcluded(AgentState agent)
    {
        foreach (var id in _excluded)
        {
            if (string.Equals(id, agent.AgentId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
