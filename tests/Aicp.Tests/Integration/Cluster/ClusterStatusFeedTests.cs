using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dashboard;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using StackExchange.Redis;

namespace Aicp.Tests.Integration.Cluster;

/// <summary>
/// The live status feed (<c>SubscribeStatus</c>) of a node of a cluster, over real hub nodes on a real redis-server on
/// loopback: each snapshot carries the nodes with their load and the other nodes' agents with their node, one page at
/// a time, and follows nodes that leave and Redis going away.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class ClusterStatusFeedTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static Dictionary<string, string?> Node(RedisServer redis, string node)
    {
        var settings = redis.NodeSettings(node);
        settings["Aicp:Dashboard:PushIntervalMs"] = "200";
        return settings;
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task SubscribeStatus_AgentOnAnotherNode_ListedWithItsNodeAndLoadUntilTheNodeStops(HubProtocol protocol)
    {
        await using var redis = await RedisServer.StartAsync();
        var one = await HubHarness.StartAsync(Node(redis, "node-1"), protocol: protocol);
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"), protocol: protocol);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await one.StartAgentAsync("labeller", async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return JsonSerializer.SerializeToElement(1);
        }, maxConcurrency: 4);
        await two.StartAgentAsync("chatter", HubHarness.Echo("chatter"), maxConcurrency: 2, method: "text.chat");
        await using var subscriber = await StatusSubscriber.ConnectAsync(two);
        await subscriber.SubscribeAsync(new StatusView());

        var seen = await subscriber.NextAsync(s => s.Cluster is { } c && c.Agents.Items.Any(a => a.Agent.Id == "labeller") && c.Nodes.All(n => n.Agents == 1));
        var cluster = seen.Cluster!;
        Assert.Equal(("node-2", "up", 2), (cluster.Node, cluster.Redis, cluster.TotalNodes));
        Assert.NotNull(cluster.UpdatedAt);
        Assert.Equal([("node-1", false, 1, 0, 4), ("node-2", true, 1, 0, 2)], cluster.Nodes.Select(n => (n.Node, n.Self, n.Agents, n.Pending, n.Slots)));
        Assert.All(cluster.Nodes, n => Assert.InRange(n.At, seen.At - TimeSpan.FromSeconds(5), seen.At));
        Assert.Equal((1, 1, 0, 25), (cluster.Agents.Total, cluster.Agents.Matching, cluster.Agents.Page, cluster.Agents.PageSize));
        var remote = Assert.Single(cluster.Agents.Items); // the other nodes' agents only; this node's are the agents page
        Assert.Equal(("node-1", "labeller", "image.label", 0, 4, true, false),
            (remote.Node, remote.Agent.Id, Assert.Single(remote.Agent.Capabilities), remote.Agent.Pending, remote.Agent.MaxConcurrency, remote.Agent.Healthy,
                remote.Agent.Draining));
        Assert.Equal(["chatter"], seen.Agents.Items.Select(a => a.Id));

        // A task from node-2 running on node-1's agent: its pending count, as node-1 publishes it.
        var client = await two.StartClientAsync();
        var running = client.SubmitAsync("image.label", null);
        var busy = await subscriber.NextAsync(s => s.Cluster!.Agents.Items is [{ Agent.Pending: 1 }]);
        Assert.Equal([1, 0], busy.Cluster!.Nodes.Select(n => n.Pending));
        release.SetResult();
        Assert.Equal(TaskStatuses.Completed, (await running.DefaultTimeout()).Status);

        await one.DisposeAsync();
        var after = await subscriber.NextAsync(s => s.Cluster!.Nodes.Count == 1);
        Assert.Equal(("node-2", true, 1), (after.Cluster!.Nodes[0].Node, after.Cluster.Nodes[0].Self, after.Cluster.TotalNodes));
        Assert.Empty(after.Cluster.Agents.Items);
        Assert.Equal(0, after.Cluster.Agents.Total);
    }

    [Fact]
    public async Task SubscribeStatus_ThousandAgentsOnAnotherNode_PushesOnePageWithinBoundedSize()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        for (var i = 0; i < 1000; i++)
        {
            one.Registry.Register($"conn-{i}", $"agent-{i:0000}", [i % 2 == 0 ? "image.label" : "text.embed"], 8, new Dictionary<string, string>());
        }

        await using var subscriber = await StatusSubscriber.ConnectAsync(two);
        var subscription = await subscriber.SubscribeAsync(new StatusView { ClusterAgentPageSize = 5_000, ClusterAgentPage = 3 });
        Assert.Equal(StatusView.MaxClusterAgentPageSize, subscription.View.ClusterAgentPageSize);
        var page = await subscriber.NextAsync(s => s.Cluster?.Agents.Total == 1000);
        Assert.Equal(3, page.Cluster!.Agents.Page);
        Assert.Equal(Enumerable.Range(300, 100).Select(i => ("node-1", $"agent-{i:0000}")), page.Cluster.Agents.Items.Select(a => (a.Node, a.Agent.Id)));
        Assert.Equal((1000, 8000), (page.Cluster.Nodes[0].Agents, page.Cluster.Nodes[0].Slots));
        Assert.True(JsonSerializer.SerializeToUtf8Bytes(page, Web).Length < 128 * 1024);

        // The last page, past the end: clamped. A filter (id, node or capability) narrows before paging.
        await subscriber.SubscribeAsync(new StatusView { ClusterAgentPage = 400, ClusterAgentFilter = "agent-09" });
        var filtered = await subscriber.NextAsync(s => s.Full && s.Cluster?.Agents.Matching == 100);
        Assert.Equal(3, filtered.Cluster!.Agents.Page);
        Assert.Equal(Enumerable.Range(975, 25).Select(i => $"agent-{i:0000}"), filtered.Cluster.Agents.Items.Select(a => a.Agent.Id));
        await subscriber.SubscribeAsync(new StatusView { ClusterAgentFilter = "NODE-1", ClusterAgentPageSize = 7 });
        Assert.Equal(1000, (await subscriber.NextAsync(s => s.Cluster?.Agents.PageSize == 7)).Cluster!.Agents.Matching);
        await subscriber.SubscribeAsync(new StatusView { ClusterAgentFilter = "text.embed", ClusterAgentPageSize = 9 });
        var embedders = (await subscriber.NextAsync(s => s.Cluster?.Agents.PageSize == 9)).Cluster!.Agents;
        Assert.Equal((500, "agent-0001"), (embedders.Matching, embedders.Items[0].Agent.Id));
    }

    [Fact]
    public async Task SubscribeStatus_NodePublishesAgentsOutOfOrder_ListedByNodeThenId()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await one.StartAgentAsync("labeller", HubHarness.Echo("labeller"));
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = client.GetDatabase();
        var agent = """{"id":"ID","capabilities":["image.label"],"maxConcurrency":4,"pending":0,"draining":false,"healthy":true}""";
        var snapshot = $$"""{"node":"node-0","at":0,"agents":[{{agent.Replace("ID", "z1", StringComparison.Ordinal)}},{{agent.Replace("ID", "a1", StringComparison.Ordinal)}}]}""";
        await db.StringSetAsync("aicp:node:node-0", snapshot, TimeSpan.FromSeconds(30));
        await db.SortedSetAddAsync("aicp:nodes", "node-0", DateTimeOffset.UtcNow.AddSeconds(30).ToUnixTimeMilliseconds());
        await using var subscriber = await StatusSubscriber.ConnectAsync(two);

        await subscriber.SubscribeAsync(new StatusView());
        var seen = await subscriber.NextAsync(s => s.Cluster?.Agents.Total == 3);

        Assert.Equal([("node-0", "a1"), ("node-0", "z1"), ("node-1", "labeller")], seen.Cluster!.Agents.Items.Select(a => (a.Node, a.Agent.Id)));
        Assert.Equal(["node-0", "node-1", "node-2"], seen.Cluster.Nodes.Select(n => n.Node));
    }

    [Fact]
    public async Task SubscribeStatus_RedisStops_SaysDownWithThisNodeAloneThenRebuilds()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await one.StartAgentAsync("labeller", HubHarness.Echo("labeller"));
        await using var subscriber = await StatusSubscriber.ConnectAsync(two);
        await subscriber.SubscribeAsync(new StatusView());
        await subscriber.NextAsync(s => s.Cluster?.Agents.Total == 1);

        await redis.StopAsync();
        var down = await subscriber.NextAsync(s => s.Cluster!.Redis == "down");
        Assert.Equal(["node-2"], down.Cluster!.Nodes.Select(n => n.Node));
        Assert.Empty(down.Cluster.Agents.Items);

        await redis.StartAgainAsync();
        var back = await subscriber.NextAsync(s => s.Cluster!.Redis == "up" && s.Cluster.Agents.Total == 1);
        Assert.Equal(["node-1", "node-2"], back.Cluster!.Nodes.Select(n => n.Node));
    }
}
