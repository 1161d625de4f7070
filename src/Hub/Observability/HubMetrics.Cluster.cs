using Prometheus;
using static Aicp.Hub.Observability.MetricFamilies;

namespace Aicp.Hub.Observability;

// The cluster's state as this node sees it (Cluster/ClusterMembership), set after each heartbeat. A hub that is not a
// node of a cluster shows 1 node and Redis down (0): it has no Redis to reach.
internal sealed partial class HubMetrics
{
    private Gauge _clusterNodes = null!;
    private Gauge _clusterRedisUp = null!;
    private Counter _clusterBadMessages = null!;
    private Counter _clusterRefusals = null!;

    private void CreateClusterMetrics(MetricFactory factory)
    {
        _clusterNodes = factory.CreateGauge(ClusterNodes.Name, ClusterNodes.Help, ClusterNodes.Labels);
        _clusterRedisUp = factory.CreateGauge(ClusterRedisUp.Name, ClusterRedisUp.Help, ClusterRedisUp.Labels);
        _clusterBadMessages = CreateCounter(factory, ClusterBadMessages);
        _clusterRefusals = CreateCounter(factory, ClusterRefusals);
        _clusterNodes.Set(1);
    }

    /// <summary>A heartbeat's outcome: the live nodes in the view (this one included) and whether Redis answered.</summary>
    public void ClusterObserved(int nodes, bool redisReachable)
    {
        _clusterNodes.Set(nodes);
        _clusterRedisUp.Set(redisReachable ? 1 : 0);
    }

    /// <summary>A node snapshot (or membership entry) read from Redis was not one, and was dropped.</summary>
    public void ClusterBadSnapshot() => _clusterBadMessages.Inc();

    /// <summary>A message on this node's inbox was not one, and was dropped.</summary>
    public void ClusterBadMessage() => _clusterBadMessages.Inc();

    public long ClusterBadMessagesTotal => (long)_clusterBadMessages.Value;

    /// <summary>Another node refused an attempt this node sent it: the view this node picked by was stale.</summary>
    public void ClusterRefused() => _clusterRefusals.Inc();

    public long ClusterRefusalsTotal => (long)_clusterRefusals.Value;
}
