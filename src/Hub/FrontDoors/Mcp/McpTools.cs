using System.ComponentModel;
using System.Text.Json;
using Aicp.Hub.FrontDoors.Http;
using Aicp.Hub.Observability;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Aicp.Hub.FrontDoors.Mcp;

/// <summary>
/// The hub's MCP tools. <c>route_request</c> runs a task as <c>POST /v1/tasks</c> does (<see cref="FrontDoorTasks"/>: the
/// caller's submitter role, rate limit and payload limit, the same dispatcher, metrics under door <c>mcp</c>); the other
/// three read status data under the rule of <c>/v1/*</c> (the admin role, or loopback with <c>StatusOpenOnLoopback</c>).
/// Every answer is JSON text; a task that did not complete, a refusal and bad arguments come back as a tool result
/// with <c>isError</c>, so the model sees why, never as a protocol error.
/// </summary>
/// <remarks>
/// The caller is the principal of the HTTP request that carries the call: the server runs stateless (one request, one
/// server, see <see cref="McpEndpoints"/>), so a tool runs on that request's execution context and
/// <see cref="IHttpContextAccessor"/> gives its <see cref="HttpContext"/> (user, connection, abort token).
/// </remarks>
[McpServerToolType]
internal sealed class McpTools(FrontDoorTasks tasks, ModelCatalog models, StatusQueries status, HealthCheckService health, IHttpContextAccessor accessor)
{
    public const string RouteRequest = "route_request";
    public const string ListModels = "list_models";
    public const string GatewayStats = "gateway_stats";
    public const string HealthCheck = "health_check";

    [McpServerTool(Name = RouteRequest, Title = "Route a request to an agent", Destructive = false, OpenWorld = true)]
    [Description("Runs one task on the hub's agents and returns its result JSON: {taskId, status, result?, error?, agentId?, attempts, " +
                 "strategy, latencyMs, route[]}. The hub picks the agent, fails over to another one when an attempt fails, and tries " +
                 "the fallback capabilities in order when none can serve. A task that did not complete is an error result whose JSON " +
                 "gives its status and error code (e.g. no_agents, timeout, forbidden, rate_limited).")]
    public async Task<CallToolResult> RouteRequestAsync(
        [Description("What to run: a model name from list_models (the routing file's model map, e.g. gpt-4o-mini), else a capability " +
                     "name (e.g. image.label). A model name is looked up first.")]
        string target,
        [Description("The task's input: any JSON value, passed to the agent as given.")]
        JsonElement? payload = null,
        [Description("Routing strategy (e.g. adaptive, least-loaded, round-robin, power-of-two); the model's or capability's default when absent.")]
        string? strategy = null,
        [Description("Per-attempt timeout in milliseconds (1 to 600000); the capability's default when absent.")]
        int? timeoutMs = null,
        [Description("Capabilities to try in order when the target has no healthy agent or every attempt failed; the model's own when absent.")]
        string[]? fallbacks = null)
    {
        if (accessor.HttpContext is not { } http)
        {
            return Refusal(ErrorCodes.InvalidRequest, "The call did not arrive over HTTP.");
        }

        if (string.IsNullOrWhiteSpace(target))
        {
            tasks.Refused(FrontDoorNames.Mcp);
            return Refusal(ErrorCodes.InvalidRequest, "'target' must name a model or a capability.");
        }

        // A name outside the map that no agent serves is still a capability: the dispatcher answers it (no_agents,
        // invalid_method) as it would at POST /v1/tasks.
        var route = models.TryResolve(target, out var mapped) ? mapped : new ModelRoute(target, null, null);
        route = route with { Strategy = strategy ?? route.Strategy, Fallbacks = fallbacks ?? route.Fallbacks };
        var request = ModelCatalog.Request(route, payload is { } value ? TaskPayload.FromJson(value) : null, timeoutMs);

        var result = await tasks.SubmitAsync(FrontDoorNames.Mcp, http, request);
        return Answer(result, isError: result.Status != TaskStatuses.Completed);
    }

    [McpServerTool(Name = ListModels, Title = "List models", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Lists what route_request can target: the routing file's models (mapped: true), then every capability an agent " +
                 "serves, as [{id, capability, mapped, agents}] where agents counts the live agents serving the capability. Needs the admin role.")]
    public CallToolResult ListModelsTool() =>
        StatusAnswer(ListModels, () => models.List());

    [McpServerTool(Name = GatewayStats, Title = "Gateway statistics", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("The hub's totals since start, as GET /v1/stats gives them: {tasks: {submitted, completed, failed, ...}, inFlight, " +
                 "agents, securityEvents, frontDoors: {door: {status: count}}}. Needs the admin role.")]
    public CallToolResult GatewayStatsTool() =>
        StatusAnswer(GatewayStats, status.Stats);

    [McpServerTool(Name = HealthCheck, Title = "Health check", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("The hub's readiness as GET /readyz decides it (Healthy, Degraded, or Unhealthy when an expected capability has no " +
                 "healthy agent), the live agents, and per capability its agents, healthy agents and the agents' circuit states " +
                 "(closed, half-open, open). Needs the admin role.")]
    public async Task<CallToolResult> HealthCheckAsync(CancellationToken cancellationToken)
    {
        if (Forbidden(HealthCheck) is { } refused)
        {
            return refused;
        }

        var report = await health.CheckHealthAsync(r => r.Tags.Contains(StatusEndpoints.ReadyTag), cancellationToken);
        var agents = status.Agents();
        return Answer(new McpHealthReport
        {
            Status = report.Status.ToString(),
            Ready = report.Status != HealthStatus.Unhealthy, // what /readyz answers 200 to
            Description = report.Entries.TryGetValue(ReadinessHealthCheck.Name, out var entry) ? entry.Description : null,
            CapabilitiesWithoutHealthyAgents = status.CapabilitiesWithoutHealthyAgents(),
            Agents = agents.Count,
            Capabilities = [.. status.Capabilities().Select(c => new McpCapabilityHealth
            {
                Method = c.Method,
                Agents = c.Agents,
                HealthyAgents = c.HealthyAgents,
                Circuits = agents.Where(a => a.Capabilities.Contains(c.Method, StringComparer.Ordinal))
                    .CountBy(a => a.CircuitState)
                    .ToDictionary(g => g.Key, g => g.Value, StringComparer.Ordinal),
            })],
        }, isError: false);
    }

    private CallToolResult StatusAnswer<T>(string tool, Func<T> read) => Forbidden(tool) ?? Answer(read(), isError: false);

    private CallToolResult? Forbidden(string tool)
    {
        if (accessor.HttpContext is { } http && tasks.MayReadStatus(http, "mcp:" + tool))
        {
            return null;
        }

        return Refusal(ErrorCodes.Forbidden, $"The tool '{tool}' reads status data: it needs the 'admin' role.");
    }

    /// <summary>An error result in the hub's refusal shape, <c>{"error":{"code","message"}}</c>.</summary>
    internal static CallToolResult Refusal(string code, string message) => Answer(new { error = TaskError.Of(code, message) }, isError: true);

    /// <summary>A tool result of one text block holding <paramref name="value"/> as JSON, in the hub's conventions (those of <c>/v1/tasks</c>).</summary>
    private static CallToolResult Answer<T>(T value, bool isError) => new()
    {
        Content = [new TextContentBlock { Text = JsonSerializer.Serialize(value, TaskEndpoints.Json) }],
        IsError = isError,
    };
}
