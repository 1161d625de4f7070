using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

/// <summary>Health and status over HTTP.</summary>
internal static class StatusEndpoints
{
    /// <summary>Maps <c>/healthz</c> (always open, for probes) and the <c>/v1</c> group, which it returns so the caller can protect it.</summary>
    public static RouteGroupBuilder MapStatusEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok"));

        var v1 = endpoints.MapGroup("/v1");
        v1.MapGet("/agents", (AgentRegistry registry) => registry.Agents
            .OrderBy(a => a.AgentId, StringComparer.Ordinal)
            .Select(a => new
            {
                id = a.AgentId,
                capabilities = a.Capabilities,
                pending = a.Pending,
                maxConcurrency = a.MaxConcurrency,
                draining = a.IsDraining,
                trust = Math.Round(a.Trust.Value, 4),
                circuit = CircuitStateNames.Of(a.Circuit.StateAt(a.Policy.Time.GetTimestamp())),
                successRate = Math.Round(a.SuccessRate(a.Policy.Time.GetTimestamp()), 4),
                latencyMs = a.Latencies.Where(l => l.Value.HasValue).ToDictionary(l => l.Key, l => Math.Round(l.Value.Milliseconds, 3)),
                completed = a.Completed,
                failed = a.Failed,
                timedOut = a.TimedOut,
                connectedAt = a.ConnectedAt,
                lastCompletion = a.LastCompletion,
                metadata = a.Metadata,
                reportedLoad = a.ReportedLoad is { } load ? new
                {
                    queueDepth = load.Report.QueueDepth,
                    freeSlots = load.Report.FreeSlots,
                    gpus = load.Report.Gpus,
                    receivedAt = load.ReceivedAt,
                } : null,
            }));

        v1.MapGet("/stats", (HubCounters counters, TaskDispatcher dispatcher, AgentRegistry registry) => new
        {
            tasks = counters.Snapshot(),
            inFlight = dispatcher.InFlightCount,
            agents = registry.Count,
        });
        return v1;
    }
}
