using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Aicp.Hub.Observability;

/// <summary>Health, status and metrics over HTTP. The status routes return the same records as the hub's status methods.</summary>
internal static class StatusEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    /// <summary>
    /// Maps the probes and <c>/metrics</c> (open, for orchestrators and scrapers) and the <c>/v1</c> status group,
    /// which it returns so the caller can protect it.
    /// </summary>
    public static RouteGroupBuilder MapStatusEndpoints(this IEndpointRouteBuilder endpoints)
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

        var v1 = endpoints.MapGroup("/v1");
        v1.MapGet("/agents", (StatusQueries status) => status.Agents());
        v1.MapGet("/capabilities", (StatusQueries status) => status.Capabilities());
        v1.MapGet("/routes", (StatusQueries status, int? limit) => status.Routes(limit));
        v1.MapGet("/capacity", (StatusQueries status) => status.Capacity());
        v1.MapGet("/stats", (HubCounters counters, TaskDispatcher dispatcher, AgentRegistry registry) => new
        {
            tasks = counters.Snapshot(),
            inFlight = dispatcher.InFlightCount,
            agents = registry.Count,
        });
        return v1;
    }
}
