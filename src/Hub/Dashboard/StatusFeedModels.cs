using Aicp.Hub.Cluster;
using Aicp.Hub.Observability;
using MessagePack;

namespace Aicp.Hub.Dashboard;

// The live status feed's shapes (SubscribeStatus and the "Status" pushes). camelCase on the wire, in JSON and
// (explicit keys) in MessagePack, like the status API records they carry.

/// <summary>
/// What a subscriber looks at: one page of agents, one page of capabilities, the newest routing decisions and, on a
/// node of a cluster, one page of the other nodes' agents. The hub pushes only that, so a snapshot stays small however
/// large the fleet. Out-of-range values are clamped (<see cref="Normalized"/>).
/// </summary>
[MessagePackObject]
public sealed record StatusView
{
    public const int MaxAgentPageSize = 100;
    public const int MaxCapabilityPageSize = 20;
    public const int MaxRouteLimit = 100;
    public const int MaxFilterLength = 128;
    public const int MaxClusterAgentPageSize = 100;

    /// <summary>Most nodes a snapshot lists (ordered by name); <see cref="StatusCluster.TotalNodes"/> counts them all.</summary>
    public const int MaxClusterNodes = 100;

    /// <summary>Only agents whose id or one of whose capabilities contains this text (case-insensitive); null or empty: all.</summary>
    [Key("agentFilter")]
    public string? AgentFilter { get; init; }

    /// <summary>Zero-based page of the agents (ordered by id) that pass the filter.</summary>
    [Key("agentPage")]
    public int AgentPage { get; init; }

    /// <summary>Agents per page, 1..100. The default value is 25.</summary>
    [Key("agentPageSize")]
    public int AgentPageSize { get; init; } = 25;

    /// <summary>Only capabilities whose name contains this text (case-insensitive); null or empty: all.</summary>
    [Key("capabilityFilter")]
    public string? CapabilityFilter { get; init; }

    /// <summary>Zero-based page of the capabilities (ordered by name) that pass the filter.</summary>
    [Key("capabilityPage")]
    public int CapabilityPage { get; init; }

    /// <summary>Capabilities per page, 1..20, each with its trend. The default value is 10.</summary>
    [Key("capabilityPageSize")]
    public int CapabilityPageSize { get; init; } = 10;

    /// <summary>Only routing decisions for this capability (exact name); null or empty: all.</summary>
    [Key("routeMethod")]
    public string? RouteMethod { get; init; }

    /// <summary>How many of the newest routing decisions, 1..100. The default value is 20.</summary>
    [Key("routeLimit")]
    public int RouteLimit { get; init; } = 20;

    /// <summary>On a node of a cluster: only the other nodes' agents whose id, node or one of whose capabilities contains this text (case-insensitive); null or empty: all.</summary>
    [Key("clusterAgentFilter")]
    public string? ClusterAgentFilter { get; init; }

    /// <summary>Zero-based page of the other nodes' agents (ordered by node, then id) that pass the filter.</summary>
    [Key("clusterAgentPage")]
    public int ClusterAgentPage { get; init; }

    /// <summary>The other nodes' agents per page, 1..100. The default value is 25.</summary>
    [Key("clusterAgentPageSize")]
    public int ClusterAgentPageSize { get; init; } = 25;

    /// <summary>This view with every value in range and filters trimmed.</summary>
    public StatusView Normalized() => this with
    {
        AgentFilter = Trim(AgentFilter),
        AgentPage = Math.Max(0, AgentPage),
        AgentPageSize = Math.Clamp(AgentPageSize, 1, MaxAgentPageSize),
        CapabilityFilter = Trim(CapabilityFilter),
        CapabilityPage = Math.Max(0, CapabilityPage),
        CapabilityPageSize = Math.Clamp(CapabilityPageSize, 1, MaxCapabilityPageSize),
        RouteMethod = Trim(RouteMethod),
        RouteLimit = Math.Clamp(RouteLimit, 1, MaxRouteLimit),
        ClusterAgentFilter = Trim(ClusterAgentFilter),
        ClusterAgentPage = Math.Max(0, ClusterAgentPage),
        ClusterAgentPageSize = Math.Clamp(ClusterAgentPageSize, 1, MaxClusterAgentPageSize),
    };

    private static string? Trim(string? filter)
    {
        var trimmed = filter?.Trim();
        return string.IsNullOrEmpty(trimmed) ? null : trimmed.Length > MaxFilterLength ? trimmed[..MaxFilterLength] : trimmed;
    }
}

/// <summary>The answer to <c>SubscribeStatus</c>: the view in force and how often snapshots come.</summary>
[MessagePackObject]
public sealed record StatusSubscription
{
    [Key("view")]
    public required StatusView View { get; init; }

    [Key("intervalMs")]
    public int IntervalMs { get; init; }
}

/// <summary>One push of the status feed (client method <c>Status</c>).</summary>
[MessagePackObject]
public sealed record StatusSnapshot
{
    [Key("at")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset At { get; init; }

    /// <summary>
    /// True when <see cref="CapabilityPage.Trends"/> hold the whole history kept for each capability (the first snapshot
    /// after <c>SubscribeStatus</c>); false when they hold only the samples taken since the previous snapshot.
    /// </summary>
    [Key("full")]
    public bool Full { get; init; }

    [Key("totals")]
    public required StatusTotals Totals { get; init; }

    [Key("agents")]
    public required AgentPage<AgentStatus> Agents { get; init; }

    [Key("capabilities")]
    public required CapabilityPage Capabilities { get; init; }

    /// <summary>The newest routing decisions that pass the view's capability filter, newest first.</summary>
    [Key("routes")]
    public required IReadOnlyList<RouteRecord> Routes { get; init; }

    /// <summary>On a node of a cluster, the cluster as this node saw it at its last heartbeat; null on a hub that is not a node of a cluster.</summary>
    [Key("cluster")]
    public StatusCluster? Cluster { get; init; }
}

/// <summary>Hub-wide figures: the task totals of <c>GET /v1/stats</c> and the live counts.</summary>
[MessagePackObject]
public sealed record StatusTotals
{
    /// <summary>The <c>tasks</c> object of <c>GET /v1/stats</c>: <c>submitted</c>, one entry per final status, then failovers, hedges and the other counts.</summary>
    [Key("tasks")]
    public required IReadOnlyDictionary<string, long> Tasks { get; init; }

    [Key("inFlight")]
    public int InFlight { get; init; }

    [Key("agents")]
    public int Agents { get; init; }

    /// <summary>Open hub connections (agents, submitters and dashboards).</summary>
    [Key("connections")]
    public int Connections { get; init; }

    [Key("subscribers")]
    public int Subscribers { get; init; }
}

/// <summary>One page of agents: this hub's live agents, or on a node of a cluster the other nodes' agents.</summary>
[MessagePackObject]
public sealed record AgentPage<T>
{
    /// <summary>Agents in all.</summary>
    [Key("total")]
    public int Total { get; init; }

    /// <summary>Agents that pass the filter.</summary>
    [Key("matching")]
    public int Matching { get; init; }

    /// <summary>The page shown (the requested one, or the last when fewer remain).</summary>
    [Key("page")]
    public int Page { get; init; }

    [Key("pageSize")]
    public int PageSize { get; init; }

    [Key("items")]
    public required IReadOnlyList<T> Items { get; init; }
}

/// <summary>One page of the known capabilities, each with its recent trend.</summary>
[MessagePackObject]
public sealed record CapabilityPage
{
    [Key("total")]
    public int Total { get; init; }

    [Key("matching")]
    public int Matching { get; init; }

    [Key("page")]
    public int Page { get; init; }

    [Key("pageSize")]
    public int PageSize { get; init; }

    [Key("items")]
    public required IReadOnlyList<CapabilityStatus> Items { get; init; }

    /// <summary>One per item, in the same order.</summary>
    [Key("trends")]
    public required IReadOnlyList<CapabilityTrend> Trends { get; init; }
}

/// <summary>
/// Per-second samples of one capability, as columns (oldest first): sample time, tasks finished per second (every
/// final status), failovers per second, p50 and p95 latency of completed tasks (null when none completed in the
/// second) and the queue depth at the sample.
/// </summary>
[MessagePackObject]
public sealed record CapabilityTrend
{
    [Key("method")]
    public required string Method { get; init; }

    /// <summary>Sample times, Unix milliseconds.</summary>
    [Key("t")]
    public required long[] T { get; init; }

    [Key("tasksPerSecond")]
    public required double[] TasksPerSecond { get; init; }

    [Key("failoversPerSecond")]
    public required double[] FailoversPerSecond { get; init; }

    [Key("p50Ms")]
    public required double?[] P50Ms { get; init; }

    [Key("p95Ms")]
    public required double?[] P95Ms { get; init; }

    [Key("queueDepth")]
    public required int[] QueueDepth { get; init; }
}

/// <summary>
/// The cluster in a snapshot of a node of a cluster, as the node saw it at its last heartbeat (the view of
/// <c>GET /v1/cluster</c>, stale by at most one heartbeat): the live nodes with their load, and one page of the other
/// nodes' agents.
/// </summary>
[MessagePackObject]
public sealed record StatusCluster
{
    /// <summary>The node answering.</summary>
    [Key("node")]
    public required string Node { get; init; }

    /// <summary><c>up</c>, or <c>down</c> while the node cannot reach Redis (it then lists itself alone).</summary>
    [Key("redis")]
    public required string Redis { get; init; }

    /// <summary>When the node's view was last rebuilt (its last heartbeat); null before the first.</summary>
    [Key("updatedAt")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Live nodes in all.</summary>
    [Key("totalNodes")]
    public int TotalNodes { get; init; }

    /// <summary>The live nodes, this one included, ordered by name: at most <see cref="StatusView.MaxClusterNodes"/>.</summary>
    [Key("nodes")]
    public required IReadOnlyList<StatusClusterNode> Nodes { get; init; }

    /// <summary>One page of the other nodes' agents, ordered by node, then id.</summary>
    [Key("agents")]
    public required AgentPage<StatusClusterAgent> Agents { get; init; }
}

/// <summary>One live node and the load of its agents, as it last published them.</summary>
[MessagePackObject]
public sealed record StatusClusterNode
{
    [Key("node")]
    public required string Node { get; init; }

    /// <summary>Whether it is the node answering.</summary>
    [Key("self")]
    public bool Self { get; init; }

    /// <summary>Its last heartbeat (when it wrote the snapshot read).</summary>
    [Key("at")]
    [MessagePackFormatter(typeof(Iso8601DateFormatter))]
    public DateTimeOffset At { get; init; }

    [Key("agents")]
    public int Agents { get; init; }

    /// <summary>Attempts running on its agents: the sum of their pending counts.</summary>
    [Key("pending")]
    public int Pending { get; init; }

    /// <summary>The sum of its agents' <c>maxConcurrency</c>.</summary>
    [Key("slots")]
    public int Slots { get; init; }
}

/// <summary>Another node's agent, as its node last published it (the record <c>GET /v1/cluster</c> lists), with that node.</summary>
[MessagePackObject]
public sealed record StatusClusterAgent
{
    /// <summary>The node that holds the agent's connection.</summary>
    [Key("node")]
    public required string Node { get; init; }

    [Key("agent")]
    public required ClusterAgent Agent { get; init; }
}
