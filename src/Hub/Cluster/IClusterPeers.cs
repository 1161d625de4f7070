namespace Aicp.Hub.Cluster;

/// <summary>
/// What dispatch across nodes needs of the cluster: this node's name, the view of the fleet at the last heartbeat, and
/// the inboxes of the other nodes. <see cref="ClusterMembership"/> is the one implementation; tests script a view.
/// </summary>
internal interface IClusterPeers
{
    /// <summary>Whether this hub is a node of a cluster (<c>Aicp:Cluster:Redis</c> is set); fixed for the hub's lifetime.</summary>
    bool Enabled { get; }

    /// <summary>Whether this node's connection to Redis is up now (messages to other nodes can be sent).</summary>
    bool Connected { get; }

    /// <summary>This node's name.</summary>
    string Node { get; }

    /// <summary>The cluster as this node saw it at its last heartbeat; a new instance after each one.</summary>
    ClusterView View { get; }

    /// <summary>A valid message from another node arrived on this node's inbox (handlers must not block).</summary>
    event Action<PeerMessage>? MessageReceived;

    /// <summary>Nodes that were in the view and are not any more.</summary>
    event Action<IReadOnlyCollection<string>>? NodesLeft;

    /// <summary>Publishes <paramref name="message"/> on <paramref name="node"/>'s inbox; false when it could not be sent.</summary>
    Task<bool> SendAsync(string node, PeerMessage message);
}
