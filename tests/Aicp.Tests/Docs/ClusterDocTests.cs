using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>
/// docs/CLUSTER.md's two nodes, command by command, as separate programs: redis-server, two hub processes, a labelee
/// given both hubs' URLs, tasks submitted on the other node, and the cluster view read over HTTP as the curl line does (free ports instead of 6379, 5001
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
        Assert.Equal(6, commands.Count);
        Assert.Equal("redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no", commands[0]); // RedisServer's arguments, plus its own --dir
        await using var redis = await RedisServer.StartAsync();
        var (one, two) = (LoopbackPort.Free(), LoopbackPort.Free());
        var ports = new Dictionary<string, int> { ["6379"] = redis.Port, ["5001"] = one, ["5002"] = two };
        string[] Args(string command) => System.Text.RegularExpressions.Regex.Replace(command, @"127\.0\.0\.1:(6379|5001|5002)\b", m => $"127.0.0.1:{ports[m.Groups[1].Value]}")
            .Split(" -- ", 2)[1].Split(' ');
        Assert.StartsWith("dotnet run --project src/Hub -- ", commands[1]);
        Assert.StartsWith("dotnet run --project src/Hub -- ", commands[2]);
        Assert.StartsWith("dotnet run --project src/SampleAgents -- labelee ", commands[3]);
        Assert.StartsWith("dotnet run --project src/SampleAgents -- submit ", commands[4]);
        Assert.Equal("curl -s http://127.0.0.1:5002/v1/cluster", commands[5]);

        var nodeOne = ProgramProcess.Start(ProgramProcess.Hub, Args(commands[1]));
        await using var nodeTwo = ProgramProcess.Start(ProgramProcess.Hub, Args(commands[2]));
        ProgramProcess? agent = null;
        try
        {
            await nodeOne.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{one}", ProgramStart);
            await nodeTwo.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{two}", ProgramStart);
            agent = ProgramProcess.Start(ProgramProcess.SampleAgents, Args(commands[3])); // once both nodes listen: it takes the first
            await agent.WaitForOutputAsync("1 agent(s) registered", ProgramStart);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{two}") };
            var last = "";
            async Task<Dictionary<string, string[]>> View()
            {
                var answer = await http.GetFromJsonAsync<JsonElement>("/v1/cluster").DefaultTimeout();
                last = answer.GetRawText();
                return answer.GetProperty("nodes").EnumerateArray().ToDictionary(
                    n => n.GetProperty("node").GetString()!, n => n.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray());
            }

            string Outputs() => $"view: {last}\nnode-1: {nodeOne.Output}\nnode-2: {nodeTwo.Output}\nagent: {agent?.Output}";

            // node-2 sees the agent on node-1 (the first URL)
            await TestTimeouts.EventuallyAsync(async () => (await View()).GetValueOrDefault("node-1")?.SequenceEqual(["labelee-1"]) == true,
                "labelee-1 on node-1 in node-2's view", TimeSpan.FromSeconds(60), Outputs);
            Assert.Empty((await View())["node-2"]);

            // the tasks submitted on node-2 run on the agent of node-1
            var submitted = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents, Args(commands[4]), within: ProgramStart);
            Assert.True(submitted.ExitCode == 0, submitted.StandardOutput + submitted.StandardError);
            Assert.Matches(@"completed[\s│]+200[\s│]", submitted.StandardOutput);

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
                "labelee-1 on node-2 and node-1 gone", TimeSpan.FromSeconds(60), Outputs);
            Assert.True(DateTime.UtcNow - killed < TimeSpan.FromSeconds(30), $"took {DateTime.UtcNow - killed}");
            using var ready = await http.GetAsync("/readyz").DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            await nodeOne.DisposeAsync();
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }
        }
    }
}
