using System.Collections.Concurrent;
using Aicp.Hub.Cluster;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hubs;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Dashboard;

/// <summary>
/// The live status feed behind <c>/dashboard</c>: connections that called <c>SubscribeStatus</c> get a
/// <see cref="StatusSnapshot"/> of their <see cref="StatusView"/> (client method <see cref="ClientMethod"/>) once per
/// <c>Aicp:Dashboard:PushIntervalMs</c>.
/// <list type="bullet">
/// <item>Nobody subscribed: the loop waits for a subscription, nothing samples and nothing listens to the task path.</item>
/// <item>Bounded in rate: at most one snapshot per subscriber per interval, and at most one in flight: a subscriber that
/// has not taken the previous one skips a beat (the next snapshot carries the samples it missed).</item>
/// <item>Bounded in size: one page of agents and of capabilities, and at most <see cref="StatusView.MaxRouteLimit"/>
/// routing decisions, whatever the size of the fleet; at most <c>Aicp:Dashboard:MaxSubscribers</c> subscribers. On a
/// node of a cluster, also the cluster as the node last saw it (<see cref="StatusCluster"/>): at most
/// <see cref="StatusView.MaxClusterNodes"/> nodes and one page of the other nodes' agents. A hub that is not a node of a
/// cluster sends no cluster section and does no work for one.</item>
/// <item>Sends never throw into the loop; a subscriber leaves when its connection closes.</item>
/// </list>
/// </summary>
internal sealed partial class StatusFeed : BackgroundService
{
    /// <summary>The client method each snapshot is sent to.</summary>
    public const string ClientMethod = "Status";

    private readonly ConcurrentDictionary<string, Subscriber> _subscribers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _sync = new();
    private readonly StatusQueries _queries;
    private readonly AgentRegistry _registry;
    private readonly HubCounters _counters;
    private readonly TaskDispatcher _dispatcher;
    private readonly RouteLog _routes;
    private readonly CapabilityTrends _trends;
    private readonly ClusterMembership _cluster;
    private readonly IHubContext<AicpHub> _hub;
    private readonly AicpHubLifetimeManager? _connections;
    private readonly TimeProvider _time;
    private readonly ILogger<StatusFeed> _logger;
    private readonly TimeSpan _interval;
    private readonly int _maxSubscribers;
    private long _pushes;
    private volatile bool _sampling;

    public StatusFeed(StatusQueries queries, AgentRegistry registry, HubCounters counters, TaskDispatcher dispatcher, RouteLog routes,
        CapabilityTrends trends, ClusterMembership cluster, IHubContext<AicpHub> hub, HubLifetimeManager<AicpHub> lifetime, TimeProvider time,
        IOptions<ObservabilityOptions> options, ILogger<StatusFeed> logger)
    {
        _queries = queries;
        _registry = registry;
        _counters = counters;
        _dispatcher = dispatcher;
        _routes = routes;
        _trends = trends;
        _cluster = cluster;
        _hub = hub;
        _connections = lifetime as AicpHubLifetimeManager;
        _time = time;
        _logger = logger;
        _interval = TimeSpan.FromMilliseconds(options.Value.Dashboard.PushIntervalMs);
        _maxSubscribers = options.Value.Dashboard.MaxSubscribers;
    }

    public int SubscriberCount => _subscribers.Count;

    /// <summary>Snapshots sent since start.</summary>
    public long Pushes => Interlocked.Read(ref _pushes);

    /// <summary>Whether the feed is sampling now (someone is subscribed).</summary>
    public bool IsSampling => _sampling;

    /// <summary>
    /// Subscribes the connection, or changes its view. Its next snapshot, sent at once when none is in flight, carries
    /// the whole history of the capabilities on its page. Null when the subscriber limit is reached.
    /// </summary>
    public StatusSubscription? Subscribe(string connectionId, StatusView? view)
    {
        var normalized = (view ?? new StatusView()).Normalized();
        Subscriber subscriber;
        lock (_sync)
        {
            if (!_subscribers.TryGetValue(connectionId, out subscriber!))
            {
                if (_subscribers.Count >= _maxSubscribers)
                {
                    return null;
                }

                subscriber = new Subscriber(connectionId, normalized);
                _subscribers[connectionId] = subscriber;
            }
        }

        subscriber.Resubscribe(normalized);
        Log.Subscribed(_logger, connectionId, _subscribers.Count);
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // already signalled
            }
        }

        TrySend(subscriber);
        return new StatusSubscription { View = normalized, IntervalMs = (int)_interval.TotalMilliseconds };
    }

    /// <summary>Ends the connection's subscription; true when it had one.</summary>
    public bool Unsubscribe(string connectionId) => _subscribers.TryRemove(connectionId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (_subscribers.IsEmpty)
                {
                    _sampling = false;
                    _trends.Stop();
                    while (_subscribers.IsEmpty)
                    {
                        await _wake.WaitAsync(stoppingToken).ConfigureAwait(false);
                    }

                    _trends.Start();
                    _trends.Sample(); // the baseline
                    _sampling = true;
                }

                using var timer = new PeriodicTimer(_interval, _time);
                while (!_subscribers.IsEmpty && await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                {
                    Tick();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the host is stopping
        }
        finally
        {
            _trends.Stop();
        }
    }

    /// <summary>One beat: a sample, then a snapshot to every subscriber that has taken its previous one.</summary>
    internal void Tick()
    {
        _trends.Sample();
        foreach (var subscriber in _subscribers.Values)
        {
            TrySend(subscriber);
        }
    }

    /// <summary>The snapshot of <paramref name="view"/> now, with the trend samples numbered above <paramref name="afterTick"/>.</summary>
    internal StatusSnapshot Build(StatusView view, long afterTick, bool full)
    {
        var agents = Page(_registry.Agents.ToArray(), view.AgentFilter, static (a, f) => Matches(a.AgentId, f) || a.Capabilities.Any(c => Matches(c, f)),
            static (a, b) => string.CompareOrdinal(a.AgentId, b.AgentId), view.AgentPage, view.AgentPageSize, out var agentPage, out var agentsMatching);
        var allCapabilities = _queries.Capabilities().ToArray();
        var capabilities = Page(allCapabilities, view.CapabilityFilter, static (c, f) => Matches(c.Method, f), static (a, b) => string.CompareOrdinal(a.Method, b.Method),
            view.CapabilityPage, view.CapabilityPageSize, out var capabilityPage, out var capabilitiesMatching);
        var routes = view.RouteMethod is { } method
            ? _routes.Latest(_routes.Capacity).Where(r => r.Method == method).Take(view.RouteLimit).ToArray()
            : [.. _routes.Latest(view.RouteLimit)];

        return new StatusSnapshot
        {
            At = _time.GetUtcNow(),
            Full = full,
            Totals = new StatusTotals
            {
                Tasks = _counters.Snapshot(),
                InFlight = _dispatcher.InFlightCount,
                Agents = _registry.Count,
                Connections = _connections?.ConnectionCount ?? 0,
                Subscribers = _subscribers.Count,
            },
            Agents = new AgentPage<AgentStatus>
            {
                Total = _registry.Count, Matching = agentsMatching, Page = agentPage, PageSize = view.AgentPageSize,
                Items = [.. agents.Select(StatusQueries.Describe)],
            },
            Capabilities = new CapabilityPage
            {
                Total = allCapabilities.Length,
                Matching = capabilitiesMatching, Page = capabilityPage, PageSize = view.CapabilityPageSize,
                Items = capabilities,
                Trends = [.. capabilities.Select(c => _trends.Trend(c.Method, afterTick))],
            },
            Routes = routes,
            Cluster = _cluster.View is { Clustered: true } cluster ? Cluster(cluster, view) : null,
        };
    }

    /// <summary>The nodes of <paramref name="cluster"/> with their load, and the view's page of the other nodes' agents.</summary>
    private static StatusCluster Cluster(ClusterView cluster, StatusView view)
    {
        // In page order as they are gathered (nodes by name, each node's agents by id), so paging needs no sort.
        var nodes = cluster.Nodes.OrderBy(n => n.Node, StringComparer.Ordinal).ToArray();
        var remote = new List<StatusClusterAgent>();
        foreach (var node in nodes)
        {
            if (node.Node != cluster.Node)
            {
                foreach (var agent in InIdOrder(node.Agents))
                {
                    remote.Add(new StatusClusterAgent { Node = node.Node, Agent = agent });
                }
            }
        }

        var page = Page(remote.ToArray(), view.ClusterAgentFilter,
            static (r, f) => Matches(r.Agent.Id, f) || Matches(r.Node, f) || r.Agent.Capabilities.Any(c => Matches(c, f)),
            order: null, view.ClusterAgentPage, view.ClusterAgentPageSize, out var shownPage, out var matching);
        return new StatusCluster
        {
            Node = cluster.Node,
            Redis = cluster.RedisState,
            UpdatedAt = cluster.UpdatedAt,
            TotalNodes = cluster.Nodes.Count,
            Nodes = [.. nodes.Take(StatusView.MaxClusterNodes).Select(n => new StatusClusterNode
            {
                Node = n.Node, Self = n.Node == cluster.Node, At = DateTimeOffset.FromUnixTimeMilliseconds(n.At), Agents = n.Agents.Count,
                Pending = n.Agents.Sum(a => a.Pending), Slots = n.Agents.Sum(a => a.MaxConcurrency),
            })],
            Agents = new AgentPage<StatusClusterAgent>
            {
                Total = remote.Count, Matching = matching, Page = shownPage, PageSize = view.ClusterAgentPageSize,
                Items = page,
            },
        };
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private void TrySend(Subscriber subscriber)
    {
        if (_connections is not null && !_connections.TryGetConnection(subscriber.ConnectionId, out _))
        {
            // Gone without its disconnect reaching Unsubscribe (a subscription racing the close): stop sampling for it.
            _subscribers.TryRemove(subscriber.ConnectionId, out _);
            return;
        }

        if (!subscriber.TryBeginSend())
        {
            return;
        }

        try
        {
            var (view, afterTick, full) = subscriber.NextView();
            var tick = _trends.Tick;
            var snapshot = Build(view, afterTick, full);
            subscriber.Sent(tick);
            _ = SendAsync(subscriber, snapshot);
        }
        catch (Exception ex)
        {
            subscriber.EndSend();
            Log.PushFailed(_logger, subscriber.ConnectionId, ex);
        }
    }

    private async Task SendAsync(Subscriber subscriber, StatusSnapshot snapshot)
    {
        try
        {
            await _hub.Clients.Client(subscriber.ConnectionId).SendAsync(ClientMethod, snapshot).ConfigureAwait(false);
            Interlocked.Increment(ref _pushes);
        }
        catch (Exception ex)
        {
            // A failed send concerns that one connection (SignalR closes it); the feed goes on.
            Log.PushFailed(_logger, subscriber.ConnectionId, ex);
        }
        finally
        {
            subscriber.EndSend();
        }
    }

    private static bool Matches(string value, string filter) => value.Contains(filter, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Each node publishes its agents ordered by id (<see cref="ClusterMembership"/>); a list that is not is sorted here,
    /// so the order of the page never depends on what another node wrote.
    /// </summary>
    private static IReadOnlyList<ClusterAgent> InIdOrder(IReadOnlyList<ClusterAgent> agents)
    {
        for (var i = 1; i < agents.Count; i++)
        {
            if (string.CompareOrdinal(agents[i - 1].Id, agents[i].Id) > 0)
            {
                return [.. agents.OrderBy(a => a.Id, StringComparer.Ordinal)];
            }
        }

        return agents;
    }

    /// <summary>Filters, orders (unless <paramref name="order"/> is null: already in order) and cuts one page; the page is clamped to the last one.</summary>
    private static T[] Page<T>(T[] all, string? filter, Func<T, string, bool> matches, Comparison<T>? order, int page, int pageSize,
        out int shownPage, out int matching)
    {
        var selected = filter is null ? all : Array.FindAll(all, item => matches(item, filter));
        matching = selected.Length;
        var pages = Math.Max(1, (matching + pageSize - 1) / pageSize);
        shownPage = Math.Min(page, pages - 1);
        if (order is not null)
        {
            Array.Sort(selected, order);
        }

        return selected.AsSpan(Math.Min(matching, shownPage * pageSize), Math.Min(pageSize, Math.Max(0, matching - shownPage * pageSize))).ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Status snapshot to connection {ConnectionId} not sent")]
        public static partial void PushFailed(ILogger logger, string connectionId, Exception exception);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Connection {ConnectionId} subscribed to the status feed ({Subscribers} subscribers)")]
        public static partial void Subscribed(ILogger logger, string connectionId, int subscribers);
    }

    /// <summary>One subscribed connection: its view, the newest trend sample it has, and whether a snapshot is in flight.</summary>
    private sealed class Subscriber(string connectionId, StatusView view)
    {
        private StatusView _view = view;
        private long _sentTick;
        private int _full = 1;
        private int _sending;

        public string ConnectionId { get; } = connectionId;

        public void Resubscribe(StatusView view)
        {
            Volatile.Write(ref _view, view);
            Volatile.Write(ref _full, 1);
        }

        public bool TryBeginSend() => Interlocked.CompareExchange(ref _sending, 1, 0) == 0;

        public void EndSend() => Volatile.Write(ref _sending, 0);

        /// <summary>Called while sending: what to build next.</summary>
        public (StatusView View, long AfterTick, bool Full) NextView()
        {
            var full = Interlocked.Exchange(ref _full, 0) == 1;
            return (Volatile.Read(ref _view), full ? 0 : _sentTick, full);
        }

        public void Sent(long tick) => _sentTick = tick;
    }
}
