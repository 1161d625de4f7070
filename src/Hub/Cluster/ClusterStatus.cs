namespace Aicp.Hub.Cluster;

/// <summary><c>GET /v1/cluster</c>: this node, whether Redis answers, and every live node with its agents as it last published them.</summary>
internal sealed record ClusterStatus(string Node, bool Clustered, string Redis, DateTimeOffset? UpdatedAt, IReadOnlyList<ClusterNodeStatus> Nodes)
{
    public static ClusterStatus Of(ClusterView view) => new(view.Node, view.Clustered,
        !view.Clustered ? "off" : view.RedisReachable ? "up" : "down", view.UpdatedAt,
        [.. view.Nodes.Select(n => new ClusterNodeStatus(n.Node, DateTimeOffset.FromUnixTimeMilliseconds(n.At), n.Node == view.Node, n.Agents))]);
}

/// <summary>One live node: when it last published, whether it is the node answering, and its agents.</summary>
internal sealed record ClusterNodeStatus(string Node, DateTimeOffset At, bool Self, IReadOnlyList<ClusterAgent> Agents);
