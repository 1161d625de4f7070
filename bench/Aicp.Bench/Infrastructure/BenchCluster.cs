using System.Diagnostics;
using Aicp.Hub.Cluster;
using Aicp.Hub.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Infrastructure;

/// <summary>In-process hub nodes of one cluster on a <see cref="RedisProcess"/>, logging off, rate limit off.</summary>
internal static class BenchCluster
{
    /// <summary>Node <c>node-{k}</c> on <paramref name="redis"/>, with <paramref name="settings"/> on top (e.g. a heartbeat interval).</summary>
    public static Task<EmbeddedHub> StartNodeAsync(RedisProcess redis, int k, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Aicp:Security:RateLimit:Enabled"] = "false", ["Aicp:Cluster:Redis"] = redis.Endpoint, ["Aicp:Cluster:NodeId"] = $"node-{k}",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return EmbeddedHub.StartAsync(all, b => b.Logging.ClearProviders());
    }

    /// <summary>A hub that is not a node of a cluster, logging off, rate limit off.</summary>
    public static Task<EmbeddedHub> StartAloneAsync() =>
        EmbeddedHub.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:RateLimit:Enabled"] = "false" }, b => b.Logging.ClearProviders());

    /// <summary>Waits until every node's view holds <paramref name="agents"/> agents in all (its own included).</summary>
    public static async Task WaitForViewsAsync(IEnumerable<EmbeddedHub> nodes, int agents, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            var membership = node.Services.GetRequiredService<ClusterMembership>();
            while (membership.View.Nodes.Sum(n => n.Agents.Count) < agents)
            {
                if (watch.Elapsed > timeout)
                {
                    throw new TimeoutException($"Node {membership.Node} saw {membership.View.Nodes.Sum(n => n.Agents.Count)} of {agents} agents after {timeout.TotalSeconds:0} s.");
                }

                await Task.Delay(20);
            }
        }
    }
}
