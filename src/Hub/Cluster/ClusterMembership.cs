using System.Buffers;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using IServer = Microsoft.AspNetCore.Hosting.Server.IServer;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace Aicp.Hub.Cluster;

/// <summary>
/// This hub as a node of a cluster on Redis (<c>Aicp:Cluster:Redis</c>): every heartbeat it publishes its agents and
/// reads every live node's, so each node sees the whole fleet. Redis holds, under the key prefix:
/// <list type="bullet">
/// <item><c>{prefix}:nodes</c>, a sorted set of node names scored by when their heartbeat expires (Unix ms): the live
/// nodes are those scored after now; expired members are trimmed by whoever sees them.</item>
/// <item><c>{prefix}:node:{node}</c>, the node's <see cref="NodeSnapshot"/> (JSON), written with the node TTL.</item>
/// </list>
/// A node that stops cleanly removes both at once; one that dies leaves the view when its TTL runs out. Each
/// heartbeat's Redis I/O retries through Polly; when it still fails the node serves its own agents alone, says so
/// (<c>/readyz</c> Degraded, <c>aicp_cluster_redis_up</c> 0, event 7002) and rebuilds the view at the first heartbeat
/// that reaches Redis again (event 7001), without a restart. A snapshot that is not one (another program's value, a
/// node writing under another's name, names or numbers out of range) is dropped and counted.
/// </summary>
internal sealed partial class ClusterMembership : BackgroundService, IClusterPeers
{
    private readonly ClusterOptions _options;
    private readonly int _maxMessageBytes;
    private readonly AgentRegistry _registry;
    private readonly TimeProvider _time;
    private readonly HubMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IServer? _server;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ResiliencePipeline _redisIo;
    private volatile ClusterView _view;
    private ArrayBufferWriter<byte> _snapshotBuffer = new();
    private bool _snapshotInFlight;
    private ConnectionMultiplexer? _redis;
    private bool _subscribed;
    private string _node;

    public ClusterMembership(IOptions<AicpHubOptions> options, AgentRegistry registry, TimeProvider time, HubMetrics metrics,
        ILogger<ClusterMembership> logger, IServer? server = null, IHostApplicationLifetime? lifetime = null)
    {
        _options = options.Value.Cluster;
        _maxMessageBytes = PeerMessage.MaxBytesFor(options.Value.MaxMessageBytes);
        _registry = registry;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _server = server;
        _lifetime = lifetime;
        _node = _options.NodeId ?? DefaultNodeId(null);
        _view = ClusterView.Alone(_node, _options.Enabled);
        _redisIo = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutException>(),
                MaxRetryAttempts = 2,
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    /// <summary>The cluster as this node saw it at its last heartbeat.</summary>
    public ClusterView View => _view;

    /// <inheritdoc/>
    public bool Enabled => _options.Enabled;

    /// <inheritdoc/>
    public bool Connected => _redis is { IsConnected: true };

    /// <summary>A valid message from another node arrived on this node's inbox (raised on StackExchange.Redis's thread: handlers must not block).</summary>
    public event Action<PeerMessage>? MessageReceived;

    /// <summary>Nodes that were in the view and are not any more (their entry expired, they left, or Redis became unreachable).</summary>
    public event Action<IReadOnlyCollection<string>>? NodesLeft;

    private string InboxChannel(string node) => _options.KeyPrefix + ":inbox:" + node;

    /// <summary>
    /// Publishes <paramref name="message"/> on <paramref name="node"/>'s inbox. False when it could not be sent (Redis
    /// unreachable, or nobody subscribed: the node is gone); the sender's timers and the node's expiry cover the rest.
    /// </summary>
    public async Task<bool> SendAsync(string node, PeerMessage message)
    {
        if (_redis is not { IsConnected: true } redis)
        {
            return false;
        }

        try
        {
            var receivers = await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(InboxChannel(node)), message.ToJson()).ConfigureAwait(false);
            return receivers > 0;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Log.SendFailed(_logger, node, message.Type, ex.Message);
            return false;
        }
    }

    private void OnInbox(RedisChannel channel, RedisValue value)
    {
        var message = PeerMessage.TryParse((byte[])value!, _maxMessageBytes, out var problem);
        if (message is null)
        {
            _metrics.ClusterBadMessage();
            Log.BadMessage(_logger, problem!);
            return;
        }

        try
        {
            MessageReceived?.Invoke(message);
        }
        catch (Exception ex)
        {
            Log.MessageHandlerFailed(_logger, ex, message.Type, message.From);
        }
    }

    /// <summary>This node's name.</summary>
    public string Node => _node;

    private string NodesKey => _options.KeyPrefix + ":nodes";

    private string NodeKey(string node) => _options.KeyPrefix + ":node:" + node;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        await WaitForServerAsync(stoppingToken).ConfigureAwait(false);
        var configuration = ConfigurationOptions.Parse(_options.Redis!);
        configuration.AbortOnConnectFail = false; // keep trying in the background; the heartbeats see when it is back
        configuration.ConnectTimeout = (int)Math.Min(_options.HeartbeatInterval.TotalMilliseconds * 2, 5000);
        configuration.SyncTimeout = configuration.AsyncTimeout = configuration.ConnectTimeout;
        configuration.ClientName = "aicp-" + _node;
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false); // returns before it is connected

        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        do
        {
            await HeartbeatAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _redis, null) is not { } redis)
        {
            return; // not clustered, or stopped already
        }

        try
        {
            // Leave at once, rather than when the TTL runs out.
            var db = redis.GetDatabase();
            await Task.WhenAll(db.SortedSetRemoveAsync(NodesKey, _node), db.KeyDeleteAsync(NodeKey(_node))).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ClusterLeaveFailed(_logger, _node, ex.Message);
        }
        finally
        {
            redis.Dispose();
        }
    }

    /// <summary>One heartbeat: publish this node's agents, read the live nodes' snapshots, swap in the new view.</summary>
    internal async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var before = _view;
        try
        {
            var nodes = await _redisIo.ExecuteAsync(ReadWriteAsync, cancellationToken).ConfigureAwait(false);
            _view = new ClusterView(_node, Clustered: true, RedisReachable: true, _time.GetUtcNow(), nodes);
            if (!before.RedisReachable)
            {
                Log.RedisReachable(_logger, _node, nodes.Count);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Serve alone: the other nodes' agents are not known while Redis cannot be read.
            _view = new ClusterView(_node, Clustered: true, RedisReachable: false, _time.GetUtcNow(), [Snapshot(_time.GetUtcNow())]);
            if (before.RedisReachable || before.UpdatedAt is null)
            {
                Log.RedisUnreachable(_logger, _node, ex.Message);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Nothing may stop the heartbeats (an exception here would stop the host): keep the view, say why.
            Log.HeartbeatFailed(_logger, ex, _node);
            return;
        }

        _metrics.ClusterObserved(_view.Nodes.Count, _view.RedisReachable);
        var left = before.Nodes.Select(n => n.Node).Except(_view.Nodes.Select(n => n.Node), StringComparer.Ordinal).ToArray();
        if (left.Length > 0)
        {
            NodesLeft?.Invoke(left);
        }
    }

    private async ValueTask<IReadOnlyList<NodeSnapshot>> ReadWriteAsync(CancellationToken cancellationToken)
    {
        var redis = _redis!;
        if (!_subscribed)
        {
            // The inbox, once Redis answers: StackExchange.Redis subscribes again by itself after each reconnect. Through a
            // message queue, whose messages are handled one at a time in the order they were published (a handler passed
            // to SubscribeAsync may run concurrently, out of order): a streamed attempt's chunks come before its result.
            var inbox = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(InboxChannel(_node))).ConfigureAwait(false);
            inbox.OnMessage(message => OnInbox(message.Channel, message.Message));
            _subscribed = true;
        }

        var db = redis.GetDatabase();
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var local = Snapshot(now);

        // Publish: the snapshot with the TTL, then the membership entry that points at it. The JSON goes through a buffer
        // kept across heartbeats (with thousands of agents it is hundreds of KB: a large object per heartbeat would bring
        // full garbage collections sooner); after a failed write a new buffer is taken, since Redis may still send the old one.
        if (_snapshotInFlight)
        {
            _snapshotBuffer = new ArrayBufferWriter<byte>(_snapshotBuffer.Capacity);
        }

        var buffer = _snapshotBuffer;
        buffer.ResetWrittenCount();
        local.WriteJson(buffer);
        _snapshotInFlight = true;
        await db.StringSetAsync(NodeKey(_node), buffer.WrittenMemory, _options.NodeTtl).ConfigureAwait(false);
        _snapshotInFlight = false;
        await db.SortedSetAddAsync(NodesKey, _node, nowMs + (long)_options.NodeTtl.TotalMilliseconds).ConfigureAwait(false);
        await db.SortedSetRemoveRangeByScoreAsync(NodesKey, double.NegativeInfinity, nowMs, Exclude.Stop).ConfigureAwait(false);

        // Read every live node's snapshot, pipelined, each into a pooled lease (given back once parsed).
        var members = await db.SortedSetRangeByScoreAsync(NodesKey, nowMs, double.PositiveInfinity).ConfigureAwait(false);
        var names = members.Select(m => (string?)m).Where(n => n != _node && Names.IsValid(n)).Select(n => n!).ToArray();
        var reads = await Task.WhenAll(names.Select(n => db.StringGetLeaseAsync(NodeKey(n)))).ConfigureAwait(false);
        var nodes = new List<NodeSnapshot>(names.Length + 1) { local };
        for (var i = 0; i < names.Length; i++)
        {
            using var value = reads[i];
            if (value is null)
            {
                continue; // its key expired between the two reads: it is leaving
            }

            if (NodeSnapshot.TryParse(value.Span, names[i], out var problem) is { } snapshot)
            {
                nodes.Add(snapshot);
            }
            else
            {
                _metrics.ClusterBadSnapshot();
                Log.BadSnapshot(_logger, names[i], problem!);
            }
        }

        foreach (var member in members.Select(m => (string?)m).Where(n => !Names.IsValid(n)))
        {
            _metrics.ClusterBadSnapshot(); // a member no node would write
            Log.BadSnapshot(_logger, member ?? "", "not a valid node name in the membership set.");
        }

        nodes.Sort(static (a, b) => string.CompareOrdinal(a.Node, b.Node));
        return nodes;
    }

    /// <summary>This node's own snapshot: a line per live agent.</summary>
    internal NodeSnapshot Snapshot(DateTimeOffset now) => new()
    {
        Node = _node,
        At = now.ToUnixTimeMilliseconds(),
        Agents = [.. _registry.Agents.OrderBy(a => a.AgentId, StringComparer.Ordinal).Select(a => new ClusterAgent
        {
            Id = a.AgentId, Capabilities = a.Capabilities, MaxConcurrency = a.MaxConcurrency, Pending = a.Pending,
            Draining = a.IsDraining, Healthy = AgentSignals.IsHealthy(a),
        })],
    };

    // The default node name needs the hub's port, known once the server listens.
    private async Task WaitForServerAsync(CancellationToken stoppingToken)
    {
        if (_options.NodeId is not null || _lifetime is null)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
        }

        var address = _server?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        _node = DefaultNodeId(address is null ? null : new Uri(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)).Port);
        _view = ClusterView.Alone(_node, clustered: true);
    }

    /// <summary>The machine's name and the hub's port, as a valid node name (lower case, other characters as '-').</summary>
    internal static string DefaultNodeId(int? port)
    {
        var machine = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' ? c : '-')]);
        var name = (machine.Length > 0 && char.IsAsciiLetterOrDigit(machine[0]) ? machine : "node-" + machine) + (port is { } p ? "-" + p : "");
        return name.Length <= Names.MaxLength ? name : name[..Names.MaxLength];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Node {Node} reaches Redis: the cluster view has {Nodes} node(s)")]
        public static partial void RedisReachable(ILogger logger, string node, int nodes);

        [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Node {Node} cannot reach Redis; serving its own agents alone until it can: {Reason}")]
        public static partial void RedisUnreachable(ILogger logger, string node, string reason);

        [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Snapshot of node {Node} in Redis dropped: {Problem}")]
        public static partial void BadSnapshot(ILogger logger, string node, string problem);

        [LoggerMessage(EventId = 7004, Level = LogLevel.Debug, Message = "Node {Node} could not remove itself from Redis on stop: {Reason}")]
        public static partial void ClusterLeaveFailed(ILogger logger, string node, string reason);

        [LoggerMessage(EventId = 7009, Level = LogLevel.Error, Message = "A heartbeat of node {Node} failed; the view in use stays")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception, string node);

        [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Message from another node dropped: {Problem}")]
        public static partial void BadMessage(ILogger logger, string problem);

        [LoggerMessage(EventId = 7006, Level = LogLevel.Debug, Message = "Sending {Type} to node {Node} failed: {Reason}")]
        public static partial void SendFailed(ILogger logger, string node, string type, string reason);

        [LoggerMessage(EventId = 7007, Level = LogLevel.Error, Message = "Handling a {Type} message from node {Node} failed")]
        public static partial void MessageHandlerFailed(ILogger logger, Exception exception, string type, string node);
    }
}
