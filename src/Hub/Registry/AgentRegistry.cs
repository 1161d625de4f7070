using System.Collections.Concurrent;
using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Registry;

/// <summary>
/// The live capability registry: agent id -> agent, connection -> agent, capability -> pool.
/// Reads (routing) are lock-free through the pools' snapshots; writes (register, re-register, drain,
/// disconnect) are rare and serialized by one lock so the three maps always agree. Every agent's circuit transitions
/// come through here: logged, and raised as <see cref="CircuitTransitioned"/> (metrics count them).
/// </summary>
internal sealed class AgentRegistry
{
    private readonly object _writeLock = new();
    private readonly ConcurrentDictionary<string, AgentState> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AgentState> _byConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CapabilityPool> _pools = new(StringComparer.Ordinal);
    private readonly int _maxQueued;
    private readonly AgentHealthPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public AgentRegistry(IOptions<AicpHubOptions> options, TimeProvider time, ILogger<AgentRegistry>? logger = null)
    {
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _maxQueued = options.Value.MaxQueuedTasksPerCapability;
        _policy = new AgentHealthPolicy(options.Value.Health, time) { Transitioned = OnCircuitTransition };
    }

    /// <summary>Raised after an agent's circuit changed state (outside the breaker's lock).</summary>
    public event Action<CircuitTransition>? CircuitTransitioned;

    /// <summary>Raised after an agent left (disconnect or replacement), once per agent.</summary>
    public event Action<AgentState>? AgentRemoved;

    public int Count => _byId.Count;

    public ICollection<AgentState> Agents => _byId.Values;

    public IEnumerable<CapabilityPool> Pools => _pools.Values;

    public CapabilityPool? GetPool(string method) => _pools.GetValueOrDefault(method);

    public AgentState? GetByConnection(string connectionId) => _byConnection.GetValueOrDefault(connectionId);

    public AgentState? GetById(string agentId) => _byId.GetValueOrDefault(agentId);

    /// <summary>
    /// Registers (or re-registers) the agent on a connection. The arguments must already be validated.
    /// Returns the live state and, when the id was live on another connection, the state it replaced (else, when the
    /// connection was registered under another id, that identity's state, which ends too).
    /// </summary>
    public (AgentState Agent, AgentState? Replaced) Register(string connectionId, string agentId,
        IReadOnlyList<string> capabilities, int maxConcurrency, IReadOnlyDictionary<string, string> metadata)
    {
        AgentState agent;
        AgentState? replaced = null;
        AgentState? former = null;
        var touched = new List<CapabilityPool>();
        lock (_writeLock)
        {
            capabilities = Canonical(capabilities);
            if (_byConnection.TryGetValue(connectionId, out var existing) && existing.AgentId == agentId)
            {
                var before = existing.Capabilities;
                existing.Update(capabilities, maxConcurrency, metadata);
                RemoveFromPools(existing, before.Except(capabilities, StringComparer.Ordinal), touched);
                AddToPools(existing, capabilities, touched);
                agent = existing;
            }
            else
            {
                if (existing is not null)
                {
                    // The connection registered under another id before: that identity ends here.
                    former = Detach(existing, touched);
                }

                if (_byId.TryGetValue(agentId, out var live))
                {
                    replaced = Detach(live, touched);
                }

                agent = new AgentState(agentId, connectionId, capabilities, maxConcurrency, metadata, _time.GetUtcNow(), _policy);
                _byId[agentId] = agent;
                _byConnection[connectionId] = agent;
                AddToPools(agent, capabilities, touched);
            }
        }

        End(replaced);
        End(former);
        foreach (var pool in touched)
        {
            pool.Waiters.WakeAll();
        }

        return (agent, replaced ?? former);
    }

    /// <summary>Stops routing new tasks to the connection's agent; in-flight ones finish.</summary>
    public AgentState? Drain(string connectionId)
    {
        var agent = GetByConnection(connectionId);
        if (agent is null)
        {
            return null;
        }

        agent.StartDraining();
        foreach (var capability in agent.Capabilities)
        {
            GetPool(capability)?.Waiters.WakeAll();
        }

        return agent;
    }

    /// <summary>Removes the connection's agent, if any, and fails its in-flight assignments over.</summary>
    public AgentState? RemoveConnection(string connectionId)
    {
        AgentState? removed;
        var touched = new List<CapabilityPool>();
        lock (_writeLock)
        {
            if (!_byConnection.TryGetValue(connectionId, out var agent))
            {
                return null;
            }

            removed = Detach(agent, touched);
        }

        End(removed);
        foreach (var pool in touched)
        {
            pool.Waiters.WakeAll();
        }

        return removed;
    }

    /// <summary>An identity left the registry: its assignments fail over, and <see cref="AgentRemoved"/> is raised.</summary>
    private void End(AgentState? gone)
    {
        if (gone is null)
        {
            return;
        }

        gone.MarkRemoved();
        AgentRemoved?.Invoke(gone);
    }

    private void OnCircuitTransition(CircuitTransition transition)
    {
        switch (transition.To)
        {
            case CircuitState.Open:
                Log.CircuitOpened(_logger, transition.AgentId, CircuitStateNames.Of(transition.From),
                    transition.BreakTicks / (double)_time.TimestampFrequency, transition.Reopens);
                break;
            case CircuitState.HalfOpen:
                Log.CircuitHalfOpened(_logger, transition.AgentId);
                break;
            default:
                Log.CircuitClosed(_logger, transition.AgentId);
                break;
        }

        CircuitTransitioned?.Invoke(transition);
    }

    /// <summary>
    /// The capability names as the pools spell them (the same string instances), so an agent finds its per-capability
    /// statistics for a pool by reference in the common case. Caller holds the write lock.
    /// </summary>
    private string[] Canonical(IReadOnlyList<string> capabilities)
    {
        var result = new string[capabilities.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _pools.TryGetValue(capabilities[i], out var pool) ? pool.Method : capabilities[i];
        }

        return result;
    }

    private AgentState Detach(AgentState agent, List<CapabilityPool> touched)
    {
        _byConnection.TryRemove(new KeyValuePair<string, AgentState>(agent.ConnectionId, agent));
        _byId.TryRemove(new KeyValuePair<string, AgentState>(agent.AgentId, agent));
        RemoveFromPools(agent, agent.Capabilities, touched);
        return agent;
    }

    private void AddToPools(AgentState agent, IEnumerable<string> capabilities, List<CapabilityPool> touched)
    {
        foreach (var capability in capabilities)
        {
            var pool = _pools.GetOrAdd(capability, static (m, self) => new CapabilityPool(m, self._maxQueued, self._policy), this);
            if (Array.IndexOf(pool.Agents, agent) < 0)
            {
                agent.JoinPool(pool);
                pool.Replace([.. pool.Agents, agent]);
            }

            touched.Add(pool);
        }
    }

    private void RemoveFromPools(AgentState agent, IEnumerable<string> capabilities, List<CapabilityPool> touched)
    {
        foreach (var capability in capabilities)
        {
            if (!_pools.TryGetValue(capability, out var pool))
            {
                // Stryker disable once Statement : not reached: a registered agent's capabilities all have a pool holding it (both change under the write lock)
                continue;
            }

            var remaining = Array.FindAll(pool.Agents, a => !ReferenceEquals(a, agent));
            pool.Replace(remaining);
            if (remaining.Length == 0)
            {
                // Waiters hold the pool object; waking them all lets each see it empty and finish.
                _pools.TryRemove(new KeyValuePair<string, CapabilityPool>(capability, pool));
            }

            touched.Add(pool);
        }
    }
}
