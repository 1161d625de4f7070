using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Protocol;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Aicp.Hub.FrontDoors.Mcp;

/// <summary>
/// The MCP front door: the official C# SDK's server (ModelContextProtocol.AspNetCore) over streamable HTTP at
/// <c>/mcp</c>, with the tools of <see cref="McpTools"/>. The SDK speaks the protocol (JSON-RPC, the handshake, tool
/// listing, argument binding and schemas); the hub adds its authentication in front and its task path behind.
/// </summary>
internal static class McpEndpoints
{
    public const string Path = "/mcp";

    /// <summary>The server's name in the MCP handshake.</summary>
    public const string ServerName = "aicp-hub";

    public static IServiceCollection AddMcpDoor(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddMcpServer(o => o.ServerInfo = new Implementation
            {
                Name = ServerName, Version = typeof(McpEndpoints).Assembly.GetName().Version?.ToString(3) ?? "1.0.0",
            })
            .WithHttpTransport(o =>
            {
                // Stateless: every POST gets its own server and is answered on its own response, so the hub keeps no
                // session table (no memory per client, no idle sweeps, no affinity behind a load balancer), and each
                // call runs on its own request: its principal, its abort token, its rate-limit partition. The tools need
                // nothing a session gives (no server-to-client requests, no notifications between calls).
                o.Stateless = true;
            })
            .WithTools<McpTools>()
            .WithRequestFilters(f => f.AddCallToolFilter(ArgumentErrors));
        return services;
    }

    /// <summary>
    /// Arguments that do not bind to a tool's parameters (a missing <c>target</c>, a string for <c>timeoutMs</c>) are an
    /// error result that says which and why, code <c>invalid_request</c>, where the SDK alone would answer "An error
    /// occurred invoking the tool". For <c>route_request</c> it counts as a request refused before it became a task.
    /// </summary>
    private static McpRequestHandler<CallToolRequestParams, CallToolResult> ArgumentErrors(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (context, cancellationToken) =>
        {
            try
            {
                return await next(context, cancellationToken);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException)
            {
                var tool = context.Params?.Name ?? "";
                if (tool == McpTools.RouteRequest)
                {
                    context.Services!.GetRequiredService<FrontDoorTasks>().Refused(FrontDoorNames.Mcp);
                }

                return McpTools.Refusal(ErrorCodes.InvalidRequest, $"The arguments of '{tool}' do not bind: {ex.Message}");
            }
        };

    /// <summary>
    /// Maps <c>/mcp</c> (POST; GET and DELETE answer 405 in stateless mode) and returns it so the caller can protect it.
    /// A body is read up to the hub's frame limit (<c>Aicp:MaxMessageBytes</c>), as at <c>POST /v1/tasks</c>; Kestrel
    /// refuses a larger one with 413 before the SDK parses it.
    /// </summary>
    public static IEndpointConventionBuilder MapMcpDoor(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapMcp(Path).WithMetadata(
            new FrontDoorMetadata(FrontDoorNames.Mcp),
            new BodyLimit(endpoints.ServiceProvider.GetRequiredService<IOptions<AicpHubOptions>>().Value.MaxMessageBytes));

    /// <summary>The endpoint's body limit, which routing applies to the request (<see cref="IRequestSizeLimitMetadata"/>).</summary>
    private sealed record BodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
