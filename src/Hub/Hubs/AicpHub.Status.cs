using Aicp.Hub.Cluster;
using Aicp.Hub.Dashboard;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The status API for WebSocket clients: the same records as <c>GET /v1/agents</c>, <c>/v1/capabilities</c>,
/// <c>/v1/routes</c>, <c>/v1/capacity</c> and <c>/v1/cluster</c>, and the live feed of <c>/dashboard</c> (<c>SubscribeStatus</c>), under the same rule (the admin role, or a loopback caller when
/// <c>StatusOpenOnLoopback</c> is set). A refused call fails with a <see cref="HubException"/> whose message starts with
/// <c>forbidden:</c>. The results are arrays or records whose lists are arrays: the MessagePack protocol serializes a
/// result by its runtime type, which must be one the MessagePack library knows (not a compiler-made list type).
/// </summary>
internal sealed partial class AicpHub
{
    public AgentStatus[] GetAgents([FromServices] StatusQueries status)
    {
        RequireStatusAccess(nameof(GetAgents));
        return [.. status.Agents()];
    }

    public CapabilityStatus[] GetCapabilities([FromServices] StatusQueries status)
    {
        RequireStatusAccess(nameof(GetCapabilities));
        return [.. status.Capabilities()];
    }

    public RouteRecord[] GetRoutes(int? limit, [FromServices] StatusQueries status)
    {
        RequireStatusAccess(nameof(GetRoutes));
        return [.. status.Routes(limit)];
    }

    public CapacityPlan[] GetCapacity([FromServices] StatusQueries status)
    {
        RequireStatusAccess(nameof(GetCapacity));
        return [.. status.Capacity()];
    }

    /// <summary>The cluster as this node sees it, as <c>GET /v1/cluster</c> reports it (a node alone when not clustered).</summary>
    public ClusterStatus GetCluster([FromServices] ClusterMembership cluster)
    {
        RequireStatusAccess(nameof(GetCluster));
        return ClusterStatus.Of(cluster.View);
    }

    /// <summary>
    /// Subscribes this connection to the live status feed (client method <c>Status</c>, about once a second), or changes
    /// what it looks at. Ends with <see cref="UnsubscribeStatus"/> or when the connection closes.
    /// </summary>
    public StatusSubscription SubscribeStatus(StatusView? view, [FromServices] StatusFeed feed)
    {
        RequireStatusAccess(nameof(SubscribeStatus));
        return feed.Subscribe(Context.ConnectionId, view)
            ?? throw new HubException($"{ErrorCodes.Overloaded}: the status feed has as many subscribers as Aicp:Dashboard:MaxSubscribers allows.");
    }

    /// <summary>Ends this connection's status subscription; false when it had none.</summary>
    public bool UnsubscribeStatus([FromServices] StatusFeed feed) => feed.Unsubscribe(Context.ConnectionId);

    private void RequireStatusAccess(string method)
    {
        if (!_gate.CheckStatus(Caller, Context.ConnectionId, method))
        {
            throw new HubException($"{ErrorCodes.Forbidden}: {method} needs the 'admin' role.");
        }
    }
}
