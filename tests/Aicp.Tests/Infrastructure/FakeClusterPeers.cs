using System.Collections.Concurrent;
using Aicp.Hub.Cluster;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A cluster a test scripts: this node is <c>node-1</c>; <see cref="Show"/> swaps in a view of the other nodes' agents
/// (Redis reachable), <see cref="SendAsync"/> records what this node sends, and <see cref="Receive"/> delivers a message
/// from another node as the inbox would.
/// </summary>
internal sealed class FakeClusterPeers(bool enabled = true) : IClusterPeers
{
    public const string Self = "node-1";

    private volatile ClusterView _view = ClusterView.Alone(Self, enabled);

    public bool Enabled => enabled;

    /// <summary>Whether Redis is reachable now; while it is not, <see cref="SendAsync"/> sends nothing.</summary>
    public bool Connected { get; set; } = true;

    public string Node => Self;

    public ClusterView View => _view;

    public ConcurrentQueue<(string Node, PeerMessage Message)> Sent { get; } = new();

    public event Action<PeerMessage>? MessageReceived;

    public event Action<IReadOnlyCollection<string>>? NodesLeft;

    /// <summary>A new view: this node (no agents) and <paramref name="nodes"/>, each with its agents.</summary>
    public void Show(params (string Node, ClusterAgent[] Agents)[] nodes)
    {
        var before = _view;
        var snapshots = nodes.Select(n => new NodeSnapshot { Node = n.Node, At = 0, Agents = n.Agents })
            .Prepend(new NodeSnapshot { Node = Self, At = 0, Agents = [] }).ToArray();
        _view = new ClusterView(Self, Clustered: true, RedisReachable: true, DateTimeOffset.UnixEpoch, snapshots);
        var left = before.Nodes.Select(n => n.Node).Except(snapshots.Select(n => n.Node)).ToArray();
        if (left.Length > 0)
        {
            NodesLeft?.Invoke(left);
        }
    }

    /// <summary>A view in which Redis cannot be read: this node alone.</summary>
    public void LoseRedis() => _view = new ClusterView(Self, Clustered: true, RedisReachable: false, DateTimeOffset.UnixEpoch,
        [new NodeSnapshot { Node = Self, At = 0, Agents = [] }]);

    public Task<bool> SendAsync(string node, PeerMessage message)
    {
        if (!Connected)
        {
            return Task.FromResult(false);
        }

        Sent.Enqueue((node, message));
        return Task.FromResult(true);
    }

    public void Receive(PeerMessage message) => MessageReceived?.Invoke(message);

    /// <summary>An agent line as its node publishes it.</summary>
    public static ClusterAgent Line(string id, int pending = 0, int maxConcurrency = 2, bool healthy = true, bool draining = false,
        string capability = DispatcherFixture.Method) => new()
    {
        Id = id, Capabilities = [capability], MaxConcurrency = maxConcurrency, Pending = pending, Healthy = healthy, Draining = draining,
    };
}
