using Aicp.Hub.Observability;
using Microsoft.AspNetCore.Mvc;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The status API for WebSocket clients: the same records as <c>GET /v1/agents</c>, <c>/v1/capabilities</c>,
/// <c>/v1/routes</c> and <c>/v1/capacity</c>.
/// </summary>
internal sealed partial class AicpHub
{
    public IReadOnlyList<AgentStatus> GetAgents([FromServices] StatusQueries status) => status.Agents();

    public IReadOnlyList<CapabilityStatus> GetCapabilities([FromServices] StatusQueries status) => status.Capabilities();

    public IReadOnlyList<RouteRecord> GetRoutes(int? limit, [FromServices] StatusQueries status) => status.Routes(limit);

    public IReadOnlyList<CapacityPlan> GetCapacity([FromServices] StatusQueries status) => status.Capacity();
}
