using System.Text.Json;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

public sealed partial class DocSnippetTests
{
    /// <summary>CLUSTER.md's <c>cluster</c> section of a status snapshot has the shape node-2's feed pushes over a real socket.</summary>
    [Fact]
    public async Task Cluster_StatusSnapshotExample_HasTheShapeTheFeedSends()
    {
        await using var redis = await RedisServer.StartAsync();
        Dictionary<string, string?> Node(string node)
        {
            var settings = redis.NodeSettings(node, nodeTtl: "00:00:05"); // the tests beside it run in parallel: slack for a late heartbeat
            settings["Aicp:Dashboard:PushIntervalMs"] = "200";
            return settings;
        }
        await using var one = await HubHarness.StartAsync(Node("node-1"));
        await using var two = await HubHarness.StartAsync(Node("node-2"));
        await one.StartAgentAsync("labelee-1", HubHarness.Echo("labelee-1"), maxConcurrency: 4);
        await using var subscriber = await RawHubSocket.ConnectAsync(two.Hub.BaseUrl);

        await subscriber.SendRecordAsync("{\"type\":1,\"invocationId\":\"1\",\"target\":\"SubscribeStatus\",\"arguments\":[{}]}");
        var push = await subscriber.NextAsync(m => m.TryGetProperty("target", out var t) && t.GetString() == "Status"
            && m.GetProperty("arguments")[0].GetProperty("cluster").GetProperty("agents").GetProperty("total").GetInt32() == 1).DefaultTimeout();

        var documented = JsonDocument.Parse(Markdown.Read("docs/CLUSTER.md").Blocks().Single(b => b.Text.StartsWith("{\"cluster\":", StringComparison.Ordinal)).Text
            .Replace("\"...\"", "\"…\"", StringComparison.Ordinal)).RootElement;
        var snapshot = push.GetProperty("arguments")[0];
        AssertSameShape(documented, snapshot, "Status");
        var cluster = snapshot.GetProperty("cluster");
        Assert.Equal("labelee-1", cluster.GetProperty("agents").GetProperty("items")[0].GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal(["node-1", "node-2"], cluster.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()));
    }
}
