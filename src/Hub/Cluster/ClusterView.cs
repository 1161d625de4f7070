namespace Aicp.Hub.Cluster;

/// <summary>
/// One node's view of the cluster at one heartbeat: which nodes are alive (their heartbeat has not expired) and the
/// agents each holds, as they last published them (stale by at most the heartbeat interval). Immutable; the
/// membership swaps in a new one after each heartbeat. Without Redis it holds this node alone.
/// </summary>
internal sealed record ClusterView(string Node, bool Clustered, bool RedisReachable, DateTimeOffset? UpdatedAt, IReadOnlyList<NodeSnapshot> Nodes)
{
    /// <summary>The view of a hub that is not a node of a cluster, or before its first heartbeat.</summary>
    public static ClusterView Alone(string node, bool clustered) => new(node, clustered, RedisReachable: false, null, []);

    /// <summary>Redis as status records show it: <c>up</c>, <c>down</c>, or <c>off</c> for a hub that is not a node of a cluster.</summary>
    public string RedisState => !Clustered ? "off" : RedisReachable ? "up" : "down";
}
