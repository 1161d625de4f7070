using System.Collections.Concurrent;
using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Registry;

/// <summary>
/// The live capability registry: agent id -> agent, connection -> agent, capability -> pool.
/// Reads (routing) are lock-free through the pools' snapshots; writes (register, re-register, drain,
/// disconnect) are rare and serialized by one lock so the three maps always agree.
/// </summary>
internal sealed class AgentRegistry(IOptions<AicpHubOptions> options, TimeProvider time)
{
    private readonly object _writeLock = new();
    private readonly ConcurrentDictionary<string, AgentState> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AgentState> _byConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CapabilityPool> _pools = new(StringComparer.Ordinal);
    private readonly int _maxQueued = options.Value.MaxQueuedTasksPerCapability;
    private readonly AgentHealthPolicy _policy = new(options.Value.Health, time);

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
    /// Returns the live state and, when the id was live on another connection, the state it replaced.
    /// </summary>
    public (AgentState Agent, AgentState? Replaced) Register(string connectionId, string agentId,
        IReadOnlyList<string> capabilities, int maxConcurrency, IReadOnlyDictionary<string, string> metadata)
    {
        AgentState agent;
        AgentState? replaced = null;
        var touched = new List<CapabilityPool>();
        lock (_writeLock)
        {
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
                    replaced = Detach(existing, touched);
                }

                if (_byId.TryGetValue(agentId, out var live))
                {
                    var previous = Detach(live, touched);
                    replaced ??= previous;
                }

                agent = new AgentState(agentId, connectionId, capabilities, maxConcurrency, metadata, time.GetUtcNow(), _policy);
                _byId[agentId] = agent;
                _byConnection[connectionId] = agent;
                AddToPools(agent, capabilities, touched);
            }
        }

        if (replaced is not null)
        {
            replaced.MarkRemoved();
            AgentRemoved?.Invoke(replaced);
        }

        foreach (var pool in touched)
        {
            pool.Waiters.WakeAll();
        }

        return (agent, replaced);
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

        removed.MarkRemoved();
        AgentRemoved?.Invoke(removed);
        foreach (var pool in touched)
        {
            pool.Waiters.WakeAll();
        }

        return removed;
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
            var pool = _pools.GetOrAdd(capability, static (m, max) => new CapabilityPool(m, max), _maxQueued);
            if (Array.IndexOf(pool.Agents, agent) < 0)
            {
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
