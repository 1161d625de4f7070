using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aicp.Hub.Observability;

/// <summary>
/// Readiness: every capability the hub knows has at least one healthy agent. A capability listed in
/// <c>Aicp:ExpectedCapabilities</c> without one makes the hub Unhealthy (503); one that agents registered earlier
/// and that has none left makes it Degraded (200), so a fleet change alone does not take the hub out of service.
/// </summary>
internal sealed class ReadinessHealthCheck(StatusQueries status, MetricLabels labels) : IHealthCheck
{
    public const string Name = "capabilities";
    public const string DataKey = "capabilitiesWithoutHealthyAgents";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var missing = status.CapabilitiesWithoutHealthyAgents();
        var data = new Dictionary<string, object> { [DataKey] = missing };
        if (missing.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Every known capability has a healthy agent.", data));
        }

        var expectedMissing = missing.Where(labels.Expected.Contains).ToList();
        var description = $"No healthy agent for: {string.Join(", ", missing)}.";
        return Task.FromResult(expectedMissing.Count > 0
            ? new HealthCheckResult(context.Registration.FailureStatus, description, data: data)
            : HealthCheckResult.Degraded(description, data: data));
    }
}

/// <summary>Liveness: the process is up and serving HTTP. It checks nothing else on purpose.</summary>
internal sealed class LivenessHealthCheck : IHealthCheck
{
    public const string Name = "self";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("The hub is running."));
}
