using Aicp.Hub.Observability;
using MessagePack;

namespace Aicp.Hub.Cluster;

/// <summary>
/// <c>GET /v1/cluster</c> and the <c>GetCluster</c> hub method: this node, whether Redis answers (<c>up</c>, <c>down</c>,
/// or <c>off</c> for a hub that is not a node of a cluster), and every live node with its agents as it last published them.
/// </summary>
[MessagePackObject]
public sealed record ClusterStatus
{
    [Key("node")]
    public required string Node { get; init; }

    [Key("clustered")]
    public bool Clustered { get; init; }

    [Key("redis")]
    public required string Redis { get; init; }

    /// <summary>When this node's view was last rebuilt (its last heartbeat); null before the first.</summary>
    [Key("updatedAt")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset? UpdatedAt { get; init; }

    [Key("nodes")]
    public required ClusterNodeStatus[] Nodes { get; init; }

    internal static ClusterStatus Of(ClusterView view) => new()
    {
        Node = view.Node, Clustered = view.Clustered, Redis = view.RedisState, UpdatedAt = view.UpdatedAt,
        Nodes = [.. view.Nodes.Select(n => new ClusterNodeStatus
        {
            Node = n.Node, At = DateTimeOffset.FromUnixTimeMilliseconds(n.At), Self = n.Node == view.Node, Agents = [.. n.Agents],
        })],
    };
}

/// <summary>One live node: when it last published, whether it is the node answering, and its agents.</summary>
[MessagePackObject]
public sealed record ClusterNodeStatus
{
    [Key("node")]
    public required string Node { get; init; }

    [Key("at")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset At { get; init; }

    [Key("self")]
    public bool Self { get; init; }

    [Key("agents")]
    public required ClusterAgent[] Agents { get; init; }
}
