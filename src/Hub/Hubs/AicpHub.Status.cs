using Aicp.Hub.Observability;
using Microsoft.AspNetCore.Mvc;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The status API for WebSocket clients: the same records as <c>GET /v1/agents</c>, <c>/v1/capabilities</c>,
/// <c>/v1/routes</c> and <c>/v1/capacity</c>. The results are arrays: the MessagePack protocol serializes a result
/// by its runtime type, which must be one the MessagePack library knows (not a compiler-made list type).
/// </summary>
internal sealed partial class AicpHub
{
    public AgentStatus[] GetAgents([FromServices] StatusQueries status) => [.. status.Agents()];

    public CapabilityStatus[] GetCapabilities([FromServices] StatusQueries status) => [.. status.Capabilities()];

    public RouteRecord[] GetRoutes(int? limit, [FromServices] StatusQueries status) => [.. status.Routes(limit)];

    public CapacityPlan[] GetCapacity([FromServices] StatusQueries status) => [.. status.Capacity()];
}
