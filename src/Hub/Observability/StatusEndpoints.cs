using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Aicp.Hub.Observability;

/// <summary>Health, status and metrics over HTTP. The status routes return the same records as the hub's status methods.</summary>
internal static class StatusEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapStatusEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Start listening before the first task so no measurement is missed.
        endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();

        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag), ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag), ResponseWriter = HealthResponseWriter.WriteAsync,
        });

        endpoints.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Render(), PrometheusTextFormat.ContentType));

        endpoints.MapGet("/v1/agents", (StatusQueries status) => status.Agents());
        endpoints.MapGet("/v1/capabilities", (StatusQueries status) => status.Capabilities());
        endpoints.MapGet("/v1/routes", (StatusQueries status, int? limit) => status.Routes(limit));
        endpoints.MapGet("/v1/capacity", (StatusQueries status) => status.Capacity());

        endpoints.MapGet("/v1/stats", (HubCounters counters, TaskDispatcher dispatcher, AgentRegistry registry) => new
        {
            tasks = counters.Snapshot(),
            inFlight = dispatcher.InFlightCount,
            agents = registry.Count,
        });
        return endpoints;
    }
}
