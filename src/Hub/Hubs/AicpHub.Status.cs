using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The status API for WebSocket clients: the same records as <c>GET /v1/agents</c>, <c>/v1/capabilities</c>,
/// <c>/v1/routes</c> and <c>/v1/capacity</c>, under the same rule (the admin role, or a loopback caller when
/// <c>StatusOpenOnLoopback</c> is set). A refused call fails with a <see cref="HubException"/> whose message starts with
/// <c>forbidden:</c>. The results are arrays: the MessagePack protocol serializes a result by its runtime type, which
/// must be one the MessagePack library knows (not a compiler-made list type).
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

    private void RequireStatusAccess(string method)
    {
        if (!_gate.CheckStatus(Caller, Context.ConnectionId, method))
        {
            throw new HubException($"{ErrorCodes.Forbidden}: {method} needs the 'admin' role.");
        }
    }
}
