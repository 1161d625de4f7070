using System.Collections.Concurrent;

namespace Aicp.Hub.Cluster;

/// <summary>
/// The other nodes' agents that may take a task, by capability, in one cluster view: healthy and not draining (free or
/// not; fullness changes between views and is judged at the pick). Built once per view (a heartbeat), so a pick reads
/// the agents of its capability only, never every node's whole list. Immutable once built; readers never lock.
/// </summary>
internal sealed class RemoteAgentIndex
{
    private readonly Dictionary<string, RemoteAgent[]> _byCapability;

    private RemoteAgentIndex(ClusterView view, Dictionary<string, RemoteAgent[]> byCapability)
    {
        View = view;
        _byCapability = byCapability;
    }

    /// <summary>The view the index was built from.</summary>
    public ClusterView View { get; }

    /// <summary>The remote agents that serve <paramref name="capability"/>, in node then agent order.</summary>
    public ReadOnlySpan<RemoteAgent> For(string capability) =>
        _byCapability.Count != 0 && _byCapability.TryGetValue(capability, out var agents) ? agents : [];

    /// <summary>
    /// The index of <paramref name="view"/>: empty while Redis is unreachable or the view holds this node alone.
    /// <paramref name="sends"/> keeps this node's attempts per remote agent across views; entries of agents that left
    /// the view and have no attempt in flight are dropped from it.
    /// </summary>
    public static RemoteAgentIndex Build(ClusterView view, ConcurrentDictionary<(string Node, string AgentId), RemoteSends> sends)
    {
        var byCapability = new Dictionary<string, List<RemoteAgent>>(StringComparer.Ordinal);
        var present = new HashSet<(string, string)>();
        if (view.RedisReachable)
        {
            foreach (var node in view.Nodes)
            {
                if (node.Node == view.Node)
                {
                    continue;
                }

                foreach (var agent in node.Agents)
                {
                    if (!agent.Healthy || agent.Draining)
                    {
                        continue;
                    }

                    var key = (node.Node, agent.Id);
                    present.Add(key);
                    var entry = new RemoteAgent(node.Node, agent, sends.GetOrAdd(key, static _ => new RemoteSends()));
                    foreach (var capability in agent.Capabilities)
                    {
                        if (!byCapability.TryGetValue(capability, out var list))
                        {
                            byCapability[capability] = list = [];
                        }

                        list.Add(entry);
                    }
                }
            }
        }

        foreach (var (key, counter) in sends)
        {
            if (counter.InFlight == 0 && !present.Contains(key))
            {
                sends.TryRemove(new KeyValuePair<(string, string), RemoteSends>(key, counter));
            }
        }

        return new RemoteAgentIndex(view, byCapability.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));
    }
}
