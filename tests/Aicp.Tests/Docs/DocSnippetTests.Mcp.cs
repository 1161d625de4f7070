using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>The MCP door's raw JSON-RPC examples (docs/FRONT-DOORS.md, README.md), run against a hub.</summary>
public sealed partial class DocSnippetTests
{
    private const string McpCurlFirstLine = "curl -s http://127.0.0.1:5000/mcp";

    /// <summary>
    /// The MCP curl commands of docs/FRONT-DOORS.md (README.md shows the first), as documented (the hub's address
    /// replaced), against a hub with credentials and an agent <c>labelee-fast</c> for <c>image.label</c>: each answers one
    /// server-sent event whose <c>isError</c> is the documented one; the task completes, then gets <c>no_agents</c>, and
    /// <c>list_models</c> answers the documented list.
    /// </summary>
    [Fact]
    public async Task FrontDoors_McpCurlExamples_AnswerAsDocumented()
    {
        var curl = ExternalTool.Require("curl", "apt-get install -y curl");
        var frontDoors = BlockStarting("docs/FRONT-DOORS.md", McpCurlFirstLine);
        var commands = DocCommandsTests.BlockCommands(frontDoors.Text).ToList();
        Assert.Equal(3, commands.Count);
        Assert.Equal([commands[0]], DocCommandsTests.BlockCommands(BlockStarting("README.md", McpCurlFirstLine).Text));
        var documented = frontDoors.Text.Split('\n').Where(l => l.StartsWith("# data: ", StringComparison.Ordinal)).Select(l => l[8..]).ToList();
        Assert.Equal(3, documented.Count);
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await h.StartAgentAsync("labelee-fast", HubHarness.Echo("labelee-fast"), accessToken: TestCredentials.WorkerKey);
        var hub = h.Hub.BaseUrl.ToString().TrimEnd('/');

        var answers = new List<(bool IsError, JsonNode Text)>();
        foreach (var command in commands)
        {
            var (exitCode, output) = await ExternalTool.RunAsync("bash",
                ["-c", $"KEY={TestCredentials.SubmitterKey}\nADMIN_KEY={TestCredentials.AdminKey}\n{command.Replace("http://127.0.0.1:5000", hub, StringComparison.Ordinal)}"]);
            Assert.True(exitCode == 0, $"{command}: exit {exitCode}: {output} ({curl})");
            var lines = output.Replace("\r", "", StringComparison.Ordinal).Split('\n');
            Assert.Equal("event: message", lines[0]);
            var result = JsonNode.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..])!["result"]!;
            answers.Add((result["isError"]!.GetValue<bool>(), JsonNode.Parse(result["content"]![0]!["text"]!.GetValue<string>())!));
        }

        for (var i = 0; i < answers.Count; i++)
        {
            Assert.Contains($"\"isError\":{(answers[i].IsError ? "true" : "false")}", documented[i], StringComparison.Ordinal);
        }

        Assert.Equal((TaskStatuses.Completed, "labelee-fast"), (answers[0].Text["status"]!.GetValue<string>(), answers[0].Text["agentId"]!.GetValue<string>()));
        Assert.Equal((TaskStatuses.NoAgents, ErrorCodes.NoAgents), (answers[1].Text["status"]!.GetValue<string>(), answers[1].Text["error"]!["code"]!.GetValue<string>()));
        var documentedModels = JsonNode.Parse(JsonSerializer.Deserialize<string>("\"" + DocumentedText().Match(documented[2]).Groups[1].Value + "\"")!);
        Assert.True(JsonNode.DeepEquals(documentedModels, answers[2].Text), $"documented {documentedModels?.ToJsonString()}, served {answers[2].Text.ToJsonString()}");
    }

    /// <summary>The JSON string of a documented answer's text block, still escaped.</summary>
    [GeneratedRegex("""
        "text":"((?:[^"\\]|\\.)*)"
        """)]
    private static partial Regex DocumentedText();
}
