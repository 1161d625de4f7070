using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aicp.Hub.Cluster;

/// <summary>
/// Readiness, for a node of a cluster: Redis reachable. A node that cannot reach it still serves its own agents, so it
/// stays in service (Degraded, 200) and says why. Healthy on a hub that is not a node of a cluster.
/// </summary>
internal sealed class ClusterHealthCheck(ClusterMembership cluster) : IHealthCheck
{
    public const string Name = "cluster";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var view = cluster.View;
        var data = new Dictionary<string, object> { ["node"] = view.Node, ["nodes"] = view.Nodes.Count };
        return Task.FromResult(view switch
        {
            { Clustered: false } => HealthCheckResult.Healthy("Not a node of a cluster.", data),
            { RedisReachable: true } => HealthCheckResult.Healthy($"Redis reachable; {view.Nodes.Count} node(s) in the cluster.", data),
            { UpdatedAt: null } => HealthCheckResult.Degraded("Redis not reached yet; serving this node's agents alone.", data: data),
            _ => HealthCheckResult.Degraded("Redis unreachable; serving this node's agents alone until it returns.", data: data),
        });
    }
}
