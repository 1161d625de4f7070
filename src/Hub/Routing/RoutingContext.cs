using System.Numerics;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// What a strategy sees for one decision: the capability's pool, the <see cref="Candidates"/> it may choose from, the
/// random source and the time of the decision (<see cref="Now"/>, in the agents' clock's timestamp units).
/// <para>
/// Eligibility is decided here, once per decision, as YARP keeps "who may receive this request" apart from "which one":
/// an agent is a candidate when it is serving (not draining, not gone), not yet tried by this task, below its
/// concurrency limit, and its circuit admits a task (closed, or half-open with its one probe free). Health filtering
/// is "healthy or panic": when no untried serving agent has a circuit that admits a task, the candidates are the
/// untried agents with a free slot whatever their circuit, and <see cref="Panic"/> is set. Healthy agents that are
/// merely full leave the candidates empty (the task waits for them); they do not cause panic.
/// </para>
/// <para>
/// One pass over the pool writes the candidates' positions into a per-thread buffer (healthy ones from the front, the
/// panic set from the back), so a decision allocates nothing and writes no references. The candidates are valid until
/// the thread's next decision: a strategy must not keep them.
/// </para>
/// </summary>
internal readonly ref struct RoutingContext
{
    [ThreadStatic]
    private static int[]? t_buffer;

    public RoutingContext(CapabilityPool pool, ReadOnlySpan<AgentState> agents, ReadOnlySpan<string> excluded, IRandomSource random,
        TimeProvider? time = null)
        : this(pool, agents, excluded, random, (time ?? TimeProvider.System).GetTimestamp())
    {
    }

    public RoutingContext(CapabilityPool pool, ReadOnlySpan<AgentState> agents, ReadOnlySpan<string> excluded, IRandomSource random, long now)
    {
        Pool = pool;
        Random = random;
        Now = now;

        var buffer = t_buffer;
        // Stryker disable once Equality : reallocating a buffer of the same size changes nothing a decision sees
        if (buffer is null || buffer.Length < agents.Length)
        {
            buffer = t_buffer = new int[Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)agents.Length))];
        }

        var healthy = 0;
        var panic = buffer.Length;
        var anyUntried = false;
        var anyHealthy = false;
        for (var position = 0; position < agents.Length; position++)
        {
            var agent = agents[position];
            if (!agent.IsServing || (!excluded.IsEmpty && IsExcluded(agent, excluded)))
            {
                continue;
            }

            anyUntried = true;
            var free = agent.HasFreeCapacity;
            if (agent.IsCircuitClosed)
            {
                // the common case, from the agent's own fields
                anyHealthy = true;
                if (free)
                {
                    buffer[healthy++] = position;
                }

                continue;
            }

            var admits = agent.Circuit.Admits(now);
            anyHealthy |= admits;
            if (!free)
            {
                continue;
            }

            if (admits)
            {
                buffer[healthy++] = position;
            }
            else if (!anyHealthy)
            {
                buffer[--panic] = position; // only needed while no healthy agent has been seen
            }
        }

        HasUntriedAgent = anyUntried;
        // Stryker disable once Equality : differs only when there is no candidate either way; Panic is read only with a picked agent
        Panic = !anyHealthy && panic < buffer.Length;
        Candidates = new Candidates(agents, Panic ? buffer.AsSpan(panic) : buffer.AsSpan(0, healthy));
    }

    public CapabilityPool Pool { get; }

    /// <summary>The agents this decision may choose from: never full, tried, draining or gone; healthy unless <see cref="Panic"/>.</summary>
    public Candidates Candidates { get; }

    public IRandomSource Random { get; }

    public string Method => Pool.Method;

    /// <summary>The decision's time, a <see cref="TimeProvider.GetTimestamp"/> value of the agents' clock.</summary>
    public long Now { get; }

    /// <summary>No untried serving agent has a circuit that admits tasks: the candidates are chosen whatever their circuit.</summary>
    public bool Panic { get; }

    /// <summary>Whether any agent not yet tried by this task is serving (free or busy): false means waiting is pointless.</summary>
    public bool HasUntriedAgent { get; }

    /// <summary>The strategy's choice among <see cref="Candidates"/>, or null when there is none.</summary>
    public AgentState? Pick(IRoutingStrategy strategy) => Candidates.IsEmpty ? null : strategy.Pick(in this);

    /// <inheritdoc cref="Pick(IRoutingStrategy)"/>
    /// <param name="strategy">The strategy.</param>
    /// <param name="panicked">Whether the pick was made in panic (pass it on to <see cref="AgentState.TryAcquireSlot"/>).</param>
    public AgentState? Pick(IRoutingStrategy strategy, out bool panicked)
    {
        panicked = Panic;
        return Pick(strategy);
    }

    private static bool IsExcluded(AgentState agent, ReadOnlySpan<string> excluded)
    {
        foreach (var id in excluded)
        {
            if (string.Equals(id, agent.AgentId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
