using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Cluster;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;
using Aicp.Tests.Infrastructure;
using StackExchange.Redis;

namespace Aicp.Tests.Integration.Cluster;

/// <summary>
/// Hub nodes sharing a fleet view through a real redis-server on loopback: each node sees every live node's agents,
/// a node that leaves or dies drops out within its TTL, foreign values in Redis are dropped and counted, and a Redis
/// outage leaves each node serving its own agents (readiness Degraded) until the view rebuilds on Redis's return.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class ClusterMembershipTests
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(200);

    private static Dictionary<string, string?> Node(RedisServer redis, string node) => new()
    {
        ["Aicp:Cluster:Redis"] = redis.Endpoint, ["Aicp:Cluster:NodeId"] = node,
        ["Aicp:Cluster:HeartbeatInterval"] = Heartbeat.ToString(), ["Aicp:Cluster:NodeTtl"] = "00:00:01",
    };

    private static async Task<JsonElement> ClusterAsync(HubHarness h)
    {
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        return await http.GetFromJsonAsync<JsonElement>("/v1/cluster").DefaultTimeout();
    }

    /// <summary>The nodes in <paramref name="h"/>'s view, each with its agents' ids.</summary>
    private static async Task<Dictionary<string, string[]>> NodesAsync(HubHarness h) =>
        (await ClusterAsync(h)).GetProperty("nodes").EnumerateArray().ToDictionary(
            n => n.GetProperty("node").GetString()!,
            n => n.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray());

    private static async Task UntilAsync(HubHarness h, Func<Dictionary<string, string[]>, bool> condition, string what)
    {
        Dictionary<string, string[]> last = [];
        await TestTimeouts.EventuallyAsync(async () => condition(last = await NodesAsync(h)), what,
            last: () => string.Join("; ", last.Select(n => $"{n.Key}: {string.Join(",", n.Value)}")));
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task TwoNodes_EachSeesTheOthersAgents_AndDropsANodeThatLeaves(HubProtocol protocol)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"), protocol: protocol);
        var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await one.StartAgentAsync("a1", HubHarness.Echo("a1"));
        await two.StartAgentAsync("a2", HubHarness.Echo("a2"), method: "text.chat");

        await UntilAsync(one, v => v.Count == 2 && v.GetValueOrDefault("node-2")?.SequenceEqual(["a2"]) == true && v["node-1"].SequenceEqual(["a1"]), "node-1 sees both nodes' agents");
        await UntilAsync(two, v => v.Count == 2 && v.GetValueOrDefault("node-1")?.SequenceEqual(["a1"]) == true, "node-2 sees node-1's agent");
        var view = await ClusterAsync(one);
        Assert.Equal(("node-1", true, "up"), (view.GetProperty("node").GetString(), view.GetProperty("clustered").GetBoolean(), view.GetProperty("redis").GetString()));
        var remote = view.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node").GetString() == "node-2");
        Assert.False(remote.GetProperty("self").GetBoolean());
        var agent = remote.GetProperty("agents")[0];
        Assert.Equal(("text.chat", 8), (agent.GetProperty("capabilities")[0].GetString(), agent.GetProperty("maxConcurrency").GetInt32()));
        var scrape = await MetricsScrape.FetchAsync(one.Hub.BaseUrl);
        Assert.Equal((2, 1), ((int)scrape.Value("aicp_cluster_nodes"), (int)scrape.Value("aicp_cluster_redis_up")));
        await using (var status = await Security.StatusAccessTests.ConnectAsync(one, null))
        {
            var cluster = await status.Connection.InvokeAsync<ClusterStatus>("GetCluster").DefaultTimeout(); // the same record over the hub
            Assert.Equal(("node-1", "up"), (cluster.Node, cluster.Redis));
            Assert.Equal([("node-1", true, "a1"), ("node-2", false, "a2")], cluster.Nodes.Select(n => (n.Node, n.Self, n.Agents.Single().Id)));
            Assert.Equal(["text.chat"], cluster.Nodes[1].Agents[0].Capabilities);
        }

        await two.DisposeAsync(); // a clean stop removes the node at once
        await UntilAsync(one, v => v.Count == 1 && v.ContainsKey("node-1"), "node-2 gone from node-1's view");
    }

    [Fact]
    public async Task NodeThatStopsHeartbeating_LeavesTheViewWhenItsTtlRunsOut()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = client.GetDatabase();
        var expires = DateTimeOffset.UtcNow.AddSeconds(1.5).ToUnixTimeMilliseconds();
        var ghost = """{"node":"ghost","at":0,"agents":[{"id":"g1","capabilities":["image.label"],"maxConcurrency":4,"pending":1,"draining":false,"healthy":true}]}""";

        // A node that wrote one heartbeat and died (killed -9): nobody removes it.
        await db.StringSetAsync("aicp:node:ghost", ghost, TimeSpan.FromSeconds(1.5));
        await db.SortedSetAddAsync("aicp:nodes", "ghost", expires);

        await UntilAsync(one, v => v.GetValueOrDefault("ghost")?.SequenceEqual(["g1"]) == true, "the dead node's last heartbeat seen");
        await UntilAsync(one, v => !v.ContainsKey("ghost"), "the dead node gone once its TTL ran out");
        // its membership entry trimmed by a later heartbeat (the view may also have lost it for a heartbeat Redis did not answer)
        await TestTimeouts.EventuallyAsync(async () => await db.SortedSetLengthByValueAsync("aicp:nodes", "ghost", "ghost") == 0, "the dead node's entry trimmed");
    }

    [Fact]
    public async Task ForeignValuesInRedis_DroppedAndCounted_TheNodeCarriesOn()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await one.StartAgentAsync("a1", HubHarness.Echo("a1"));
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = client.GetDatabase();
        var expires = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds();
        var bad = new Dictionary<string, string>
        {
            ["garbage"] = "not json at all",
            ["impostor"] = """{"node":"node-1","at":0,"agents":[]}""", // claims another node's name
            ["bad-agent"] = """{"node":"bad-agent","at":0,"agents":[{"id":"Not Valid","capabilities":[],"maxConcurrency":1}]}""",
            ["extra-field"] = """{"node":"extra-field","at":0,"agents":[],"command":"flushall"}""",
        };
        foreach (var (node, value) in bad)
        {
            await db.StringSetAsync("aicp:node:" + node, Encoding.UTF8.GetBytes(value));
            await db.SortedSetAddAsync("aicp:nodes", node, expires);
        }

        await db.SortedSetAddAsync("aicp:nodes", "Bad Name!", expires);

        await TestTimeouts.EventuallyAsync(async () => (await MetricsScrape.FetchAsync(one.Hub.BaseUrl)).Value("aicp_cluster_bad_messages_total") >= 5,
            "the five foreign entries counted");
        var view = await NodesAsync(one);
        Assert.Equal(["node-1"], view.Keys);
        var client2 = await one.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client2.SubmitAsync("image.label", null).DefaultTimeout()).Status);
    }

    [Fact]
    public async Task RedisStopped_NodeServesItsAgentsAndSaysSo_ViewRebuildsWhenRedisReturns()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await one.StartAgentAsync("a1", HubHarness.Echo("a1"));
        await two.StartAgentAsync("a2", HubHarness.Echo("a2"));
        await UntilAsync(one, v => v.Count == 2, "both nodes seen");
        using var http = new HttpClient { BaseAddress = one.Hub.BaseUrl };

        await redis.StopAsync();

        await TestTimeouts.EventuallyAsync(async () => (await ClusterAsync(one)).GetProperty("redis").GetString() == "down", "node-1 notices Redis is gone");
        Assert.Equal(["node-1"], (await NodesAsync(one)).Keys);
        using var ready = await http.GetAsync("/readyz").DefaultTimeout();
        var health = await ready.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode); // still in service: it serves its own agents
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        Assert.Contains("Redis unreachable", health.GetProperty("checks").GetProperty("cluster").GetProperty("description").GetString());
        Assert.Equal(0, (await MetricsScrape.FetchAsync(one.Hub.BaseUrl)).Value("aicp_cluster_redis_up"));
        var client = await one.StartClientAsync();
        Assert.Equal(("completed", "a1"), ((await client.SubmitAsync("image.label", null).DefaultTimeout()).Status, (await client.SubmitAsync("image.label", null).DefaultTimeout()).AgentId));

        await redis.StartAgainAsync(); // empty: every node publishes itself again

        await UntilAsync(one, v => v.Count == 2 && v.GetValueOrDefault("node-2")?.SequenceEqual(["a2"]) == true, "the view rebuilt without a restart");
        Assert.Equal(1, (await MetricsScrape.FetchAsync(one.Hub.BaseUrl)).Value("aicp_cluster_redis_up"));
    }

    [Fact]
    public async Task RedisDownAtStart_NodeStartsAndServesAlone_JoinsWhenRedisComes()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await one.StartAgentAsync("a1", HubHarness.Echo("a1"));

        await TestTimeouts.EventuallyAsync(async () => (await ClusterAsync(one)).GetProperty("redis").GetString() == "down", "node-1 says Redis is down");
        var client = await one.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);

        await redis.StartAgainAsync();
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await UntilAsync(two, v => v.GetValueOrDefault("node-1")?.SequenceEqual(["a1"]) == true, "node-1 joined once Redis answered");
        Assert.Equal("up", (await ClusterAsync(one)).GetProperty("redis").GetString());
    }

    [Fact]
    public async Task NotClustered_NoRedis_OneNodeAlone()
    {
        await using var h = await HubHarness.StartAsync();

        var view = await ClusterAsync(h);

        Assert.Equal((false, "off", 0), (view.GetProperty("clustered").GetBoolean(), view.GetProperty("redis").GetString(), view.GetProperty("nodes").GetArrayLength()));
        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal((1, 0), ((int)scrape.Value("aicp_cluster_nodes"), (int)scrape.Value("aicp_cluster_redis_up")));
    }
}
