using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Aicp.Hub.Observability;

/// <summary>Health, status and metrics over HTTP. The status routes return the same records as the hub's status methods.</summary>
internal static class StatusEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    /// <summary>Maps the probes <c>/healthz</c> and <c>/readyz</c>: open, for orchestrators and load balancers.</summary>
    public static void MapHealthProbes(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag), ResponseWriter = HealthResponseWriter.WriteAsync,
        });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag), ResponseWriter = HealthResponseWriter.WriteAsync,
        });
    }

    /// <summary>Maps <c>/metrics</c> and returns it so the caller can protect it.</summary>
    public static IEndpointConventionBuilder MapHubMetrics(this IEndpointRouteBuilder endpoints)
    {
        var metrics = endpoints.ServiceProvider.GetRequiredService<HubMetrics>();

        // prometheus-net.AspNetCore's exporter for this hub's registry, GET only. Always the text format 0.0.4: with
        // OpenMetrics negotiated, Prometheus 2.x would store bucket bounds as le="1.0" instead of le="1".
        return endpoints.MapMetrics(settings =>
        {
            settings.Registry = metrics.Registry;
            settings.EnableOpenMetrics = false;
        }).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }

    /// <summary>Maps the <c>/v1</c> status group and returns it so the caller can protect it.</summary>
    public static RouteGroupBuilder MapStatusEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1");
        v1.MapGet("/agents", (StatusQueries status) => status.Agents());
        v1.MapGet("/capabilities", (StatusQueries status) => status.Capabilities());
        v1.MapGet("/routes", (StatusQueries status, int? limit) => status.Routes(limit));
        v1.MapGet("/capacity", (StatusQueries status) => status.Capacity());
        v1.MapGet("/cluster", (Cluster.ClusterMembership cluster) => Cluster.ClusterStatus.Of(cluster.View));
        v1.MapGet("/stats", (HubCounters counters, TaskDispatcher dispatcher, AgentRegistry registry) => new
        {
            tasks = counters.Snapshot(),
            inFlight = dispatcher.InFlightCount,
            agents = registry.Count,
            securityEvents = counters.SecurityEvents(),
            frontDoors = counters.FrontDoors(),
        });
        return v1;
    }
}
