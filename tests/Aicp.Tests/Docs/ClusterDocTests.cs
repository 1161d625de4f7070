using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>
/// docs/CLUSTER.md's two nodes, command by command, as separate programs: redis-server, two hub processes, a labelee
/// given both hubs' URLs, and the cluster view read over HTTP as the curl line does (free ports instead of 6379, 5001
/// and 5002). Then the agent's node is killed (SIGKILL): the agent registers on the other node, and the dead node
/// leaves the view when its entry expires.
/// </summary>
[Collection(SoloCollection.Name)] // four processes at once
public sealed class ClusterDocTests
{
    private static readonly TimeSpan ProgramStart = TimeSpan.FromSeconds(90);


    [Fact]
    public async Task TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled()
    {
        var commands = DocCommandsTests.BlockCommands(Markdown.Read("docs/CLUSTER.md").Blocks()
            .Single(b => b.Text.StartsWith("redis-server", StringComparison.Ordinal)).Text).ToList();
        Assert.Equal(5, commands.Count);
        Assert.Equal("redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no", commands[0]); // RedisServer's arguments, plus its own --dir
        await using var redis = await RedisServer.StartAsync();
        var (one, two) = (LoopbackPort.Free(), LoopbackPort.Free());
        var ports = new Dictionary<string, int> { ["6379"] = redis.Port, ["5001"] = one, ["5002"] = two };
        string[] Args(string command) => System.Text.RegularExpressions.Regex.Replace(command, @"127\.0\.0\.1:(6379|5001|5002)\b", m => $"127.0.0.1:{ports[m.Groups[1].Value]}")
            .Split(" -- ", 2)[1].Split(' ');
        Assert.StartsWith("dotnet run --project src/Hub -- ", commands[1]);
        Assert.StartsWith("dotnet run --project src/Hub -- ", commands[2]);
        Assert.StartsWith("dotnet run --project src/SampleAgents -- labelee ", commands[3]);
        Assert.Equal("curl -s http://127.0.0.1:5002/v1/cluster", commands[4]);

        var nodeOne = ProgramProcess.Start(ProgramProcess.Hub, Args(commands[1]));
        await using var nodeTwo = ProgramProcess.Start(ProgramProcess.Hub, Args(commands[2]));
        await using var agent = ProgramProcess.Start(ProgramProcess.SampleAgents, Args(commands[3]));
        try
        {
            await nodeOne.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{one}", ProgramStart);
            await nodeTwo.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{two}", ProgramStart);
            await agent.WaitForOutputAsync("1 agent(s) registered", ProgramStart);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{two}") };
            async Task<Dictionary<string, string[]>> View() =>
                (await http.GetFromJsonAsync<JsonElement>("/v1/cluster").DefaultTimeout()).GetProperty("nodes").EnumerateArray().ToDictionary(
                    n => n.GetProperty("node").GetString()!, n => n.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray());

            // node-2 sees the agent on node-1 (the first URL)
            await TestTimeouts.EventuallyAsync(async () => (await View()).GetValueOrDefault("node-1")?.SequenceEqual(["labelee-1"]) == true,
                "labelee-1 on node-1 in node-2's view", TimeSpan.FromSeconds(30));
            Assert.Empty((await View())["node-2"]);

            // the documented answer has the fields the hub's has, at every level
            var documented = JsonDocument.Parse(Markdown.Read("docs/CLUSTER.md").Blocks().Single(b => b.Text.StartsWith("{\"node\":\"node-2\"", StringComparison.Ordinal)).Text).RootElement;
            var answered = await http.GetFromJsonAsync<JsonElement>("/v1/cluster").DefaultTimeout();
            static string[] Fields(JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
            JsonElement FirstAgent(JsonElement view) => view.GetProperty("nodes").EnumerateArray().First(n => n.GetProperty("agents").GetArrayLength() > 0).GetProperty("agents")[0];
            Assert.Equal(Fields(documented), Fields(answered));
            Assert.Equal(Fields(documented.GetProperty("nodes")[0]), Fields(answered.GetProperty("nodes")[0]));
            Assert.Equal(Fields(FirstAgent(documented)), Fields(FirstAgent(answered)));

            await nodeOne.DisposeAsync(); // kill -9: no clean leave

            // the agent re-registers on node-2, and node-1 leaves the view when its entry expires (NodeTtl, 5 s)
            var killed = DateTime.UtcNow;
            await TestTimeouts.EventuallyAsync(async () => (await View()) is var v && !v.ContainsKey("node-1") && v["node-2"].SequenceEqual(["labelee-1"]),
                "labelee-1 on node-2 and node-1 gone", TimeSpan.FromSeconds(30));
            Assert.True(DateTime.UtcNow - killed < TimeSpan.FromSeconds(15), $"took {DateTime.UtcNow - killed}");
            using var ready = await http.GetAsync("/readyz").DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            await nodeOne.DisposeAsync();
        }
    }
}
