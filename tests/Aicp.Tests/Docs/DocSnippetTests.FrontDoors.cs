using System.Text.Json;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Aicp.SampleAgents.Chat;
using Aicp.Tests.Hub.RoutingConfiguration;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>The front doors' examples (docs/FRONT-DOORS.md, README.md, docs/PROTOCOL.md) and the routing file's (docs/ROUTING.md), run against a hub.</summary>
public sealed partial class DocSnippetTests
{
    private const string CurlFirstLine = "curl -s http://127.0.0.1:5000/v1/tasks";

    /// <summary>
    /// The curl commands of README.md and docs/FRONT-DOORS.md, as documented (the hub's address replaced), against a hub
    /// with credentials and an agent for <c>image.label</c>: the first completes, the second gets the documented status
    /// line and <c>Aicp-Error-Code</c> header.
    /// </summary>
    [Fact]
    public async Task FrontDoors_CurlExamples_AnswerAsDocumented()
    {
        var curl = ExternalTool.Require("curl", "apt-get install -y curl");
        var frontDoors = BlockStarting("docs/FRONT-DOORS.md", CurlFirstLine);
        var commands = DocCommandsTests.BlockCommands(frontDoors.Text).ToList();
        Assert.Equal(commands, DocCommandsTests.BlockCommands(BlockStarting("README.md", CurlFirstLine).Text)); // the same two
        Assert.Equal(2, commands.Count);
        var documented = frontDoors.Text.Split('\n').Where(l => l.StartsWith("# HTTP/", StringComparison.Ordinal) || l.StartsWith("# Aicp-Error-Code", StringComparison.Ordinal))
            .Select(l => l[2..]).ToList();
        Assert.Equal(2, documented.Count);
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await h.StartAgentAsync("labelee-fast", HubHarness.Echo("labelee-fast"), accessToken: TestCredentials.WorkerKey);

        var outputs = await RunCurlAsync(commands, h, curl);

        var completed = JsonDocument.Parse(outputs[0]).RootElement;
        Assert.Equal((TaskStatuses.Completed, "least-loaded", "labelee-fast"),
            (completed.GetProperty("status").GetString(), completed.GetProperty("strategy").GetString(), completed.GetProperty("agentId").GetString()));
        var lines = outputs[1].Split('\n');
        Assert.Equal(documented[0], lines[0]);
        Assert.Contains(documented[1], lines);
        var refused = JsonDocument.Parse(lines[^1]).RootElement;
        Assert.Equal((TaskStatuses.NoAgents, ErrorCodes.NoAgents), (refused.GetProperty("status").GetString(), refused.GetProperty("error").GetProperty("code").GetString()));
    }

    /// <summary>
    /// The OpenAI door's curl commands (docs/FRONT-DOORS.md, and the same in README.md after the <c>chat</c> command), as
    /// documented, against a hub with credentials and the shipped <c>deploy/routing.yaml</c> (its model map sends
    /// <c>aicp-demo-chat</c> to <c>text.chat</c>), served by the chat sample agent: each answer has the documented shape and
    /// the responder's text, the streamed one as server-sent events ending with <c>data: [DONE]</c>.
    /// </summary>
    [Fact]
    public async Task FrontDoors_OpenAiCurlExamples_AnswerAsDocumented()
    {
        var curl = ExternalTool.Require("curl", "apt-get install -y curl");
        var block = BlockStarting("docs/FRONT-DOORS.md", OpenAiCurlFirstLine).Text;
        var commands = DocCommandsTests.BlockCommands(block).ToList();
        var readme = DocCommandsTests.BlockCommands(BlockStarting("README.md", "dotnet run --project src/SampleAgents -- chat").Text).ToList();
        Assert.Equal(commands, readme[1..]);
        Assert.Equal(3, commands.Count);
        var documented = DocumentedOutputs(block);
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:RoutingFile"] = Path.Combine(ExternalTool.RepositoryRoot, "deploy", "routing.yaml") }));
        await h.Own(ChatAgent.Create(h.Hub.BaseUrl.ToString(), "chat-1", accessToken: TestCredentials.WorkerKey)).StartAsync().DefaultTimeout();
        var hub = h.Hub.BaseUrl.ToString().TrimEnd('/');
        var answer = DemoResponder.Reply(new ChatRequest { Messages = [new ChatMessage { Role = "user", Content = "Hello" }] });

        var outputs = await RunCurlAsync(commands, h, curl);

        var completion = JsonDocument.Parse(outputs[0]).RootElement;
        AssertSameShape(JsonDocument.Parse(documented[0]).RootElement, completion, "chat.completion");
        Assert.Equal(answer.Answer.Content, completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(answer.Answer.Usage!.CompletionTokens, JsonDocument.Parse(documented[0]).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var events = outputs[1].Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var documentedEvents = documented[1].Split('\n');
        Assert.Equal(answer.Pieces.Count + 3, events.Length); // the role, a chunk per word, the finish, [DONE]
        Assert.Equal(documentedEvents[^1], events[^1]);
        foreach (var (documentedEvent, sent) in new[] { (documentedEvents[0], events[0]), (documentedEvents[1], events[1]), (documentedEvents[^2], events[^2]) })
        {
            AssertSameShape(JsonDocument.Parse(documentedEvent["data: ".Length..]).RootElement, JsonDocument.Parse(sent["data: ".Length..]).RootElement, "chat.completion.chunk");
            Assert.Equal(JsonDocument.Parse(documentedEvent["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetRawText(),
                JsonDocument.Parse(sent["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetRawText());
        }

        var models = JsonDocument.Parse(outputs[2]).RootElement;
        AssertSameShape(JsonDocument.Parse(documented[2]).RootElement, models, "models");
        Assert.Equal(["aicp-demo-chat", "text.chat"], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
    }

    /// <summary>Runs documented curl commands as written, with <c>$KEY</c> a submitter's key and the hub's address in place of 127.0.0.1:5000; their outputs.</summary>
    private static async Task<List<string>> RunCurlAsync(IEnumerable<string> commands, HubHarness h, string curl)
    {
        var hub = h.Hub.BaseUrl.ToString().TrimEnd('/');
        var outputs = new List<string>();
        foreach (var command in commands)
        {
            var (exitCode, output) = await ExternalTool.RunAsync("bash", ["-c", $"KEY={TestCredentials.SubmitterKey}\n{command.Replace("http://127.0.0.1:5000", hub, StringComparison.Ordinal)}"]);
            Assert.True(exitCode == 0, $"{command}: exit {exitCode}: {output} ({curl})");
            outputs.Add(output.Replace("\r", "", StringComparison.Ordinal));
        }

        return outputs;
    }

    private const string OpenAiCurlFirstLine = "curl -s http://127.0.0.1:5000/v1/chat/completions";

    /// <summary>
    /// What a curl block documents each command prints: its comment lines (<c># ...</c>) up to the next command, each without
    /// its <c>#</c>, JSON continuation lines joined into one text and event lines (<c>data: ...</c>) one per line; the
    /// <c>...</c> lines that stand for more events left out.
    /// </summary>
    private static List<string> DocumentedOutputs(string block)
    {
        var outputs = new List<string>();
        foreach (var line in block.Split('\n'))
        {
            if (!line.StartsWith('#'))
            {
                if (line.StartsWith("curl ", StringComparison.Ordinal))
                {
                    outputs.Add("");
                }

                continue;
            }

            var text = line[1..].Trim();
            if (text.StartsWith("...", StringComparison.Ordinal))
            {
                continue;
            }

            outputs[^1] += text.StartsWith("data: ", StringComparison.Ordinal) && outputs[^1].Length > 0 ? "\n" + text : text;
        }

        return outputs;
    }

    /// <summary>docs/ROUTING.md's routing file is a valid one, read as documented.</summary>
    [Fact]
    public void Routing_ConfigurationExample_IsAValidRoutingFile()
    {
        var rules = RoutingRulesReader.Read(BlockStarting("docs/ROUTING.md", "capabilities:").Text, "ROUTING.md", RoutingRulesReaderTests.Strategies, out var errors);

        Assert.Empty(errors);
        Assert.Equal(new CapabilityRule("least-loaded", 60_000, 2), Assert.Single(rules!.Capabilities).Value);
        Assert.Equal(["text.chat.small", "text.echo"], rules.FallbacksFor("text.chat"));
        Assert.Equal(("text.chat", "least-loaded"), (rules.Models["gpt-4o-mini"].Capability, rules.Models["gpt-4o-mini"].Strategy));
        Assert.Equal(["text.echo"], rules.Models["gpt-4o-mini"].Fallbacks!);
    }

    /// <summary>docs/ROUTING.md's router is a valid one and classifies as its comments say.</summary>
    [Fact]
    public void Routing_RouterExample_ClassifiesAsDocumented()
    {
        var rules = RoutingRulesReader.Read(BlockStarting("docs/ROUTING.md", "routers:").Text, "ROUTING.md", RoutingRulesReaderTests.Strategies, out var errors);
        Assert.Empty(errors);
        var auto = rules!.Routers["auto"];
        TaskPayload Ask(string content) => TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { messages = new[] { new { role = "user", content } } }));

        Assert.Equal(("code", "text.code"), auto.Classify(Ask("a Stack Trace from my build")));
        Assert.Equal(("image", "image.label"), auto.Classify(Ask("what is in holiday-1.JPEG?")));
        Assert.Equal(("default", "text.chat"), auto.Classify(Ask("tell me a story")));
        Assert.Equal(("default", "text.chat"), auto.Classify(TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { prompt = "stack trace" }))));
    }

    /// <summary>
    /// docs/PROTOCOL.md's streamed exchange replayed over raw WebSockets: the documented <c>SubmitStream</c> and
    /// <c>Partial</c> frames are sent as written, and what the hub sends has the documented shape, in the documented order.
    /// </summary>
    [Fact]
    public async Task Protocol_StreamedExampleFrames_ReplayedAgainstTheHub_HaveTheDocumentedShape()
    {
        var frames = BlockStarting("docs/PROTOCOL.md", "→ {\"type\":4,\"invocationId\":\"8\",\"target\":\"SubmitStream\"").Text.Split('\n')
            .Where(l => l.Length > 0)
            .Select(l => l[2..l.IndexOf('␞', StringComparison.Ordinal)]
                .Replace("{…}", "{\"…\":\"…\"}", StringComparison.Ordinal).Replace(",…}", ",\"…\":\"…\"}", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(6, frames.Count);
        JsonElement Frame(int i) => JsonDocument.Parse(frames[i]).RootElement;
        await using var h = await HubHarness.StartAsync();
        await using var agent = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);
        await using var submitter = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);
        await agent.SendRecordAsync("{\"type\":1,\"invocationId\":\"0\",\"target\":\"Register\",\"arguments\":[{\"agentId\":\"chat-1\",\"capabilities\":[\"text.chat\"],\"maxConcurrency\":4}]}");
        Assert.True((await agent.CompletionAsync("0").DefaultTimeout()).GetProperty("result").GetProperty("accepted").GetBoolean());

        await submitter.SendRecordAsync(frames[0]);
        var execute = await agent.InvocationAsync(HubMethods.Execute).DefaultTimeout();
        AssertSameShape(Frame(1), execute, "Execute");
        var taskId = execute.GetProperty("arguments")[0].GetProperty("taskId").GetString()!;
        await agent.SendRecordAsync(frames[2].Replace("9a1e…", taskId, StringComparison.Ordinal));
        Assert.True((await agent.CompletionAsync("3").DefaultTimeout()).GetProperty("result").GetBoolean());
        var chunk = await submitter.NextAsync(m => m.GetProperty("type").GetInt32() == 2).DefaultTimeout();
        AssertSameShape(Frame(3), chunk, "chunk item");
        Assert.Equal("Hello ", chunk.GetProperty("item").GetProperty("chunk").GetProperty("delta").GetString());

        await agent.SendRecordAsync($"{{\"type\":1,\"target\":\"Complete\",\"arguments\":[{{\"taskId\":\"{taskId}\",\"attempt\":1,\"ok\":true,\"result\":{{\"content\":\"Hello \"}}}}]}}");
        var result = await submitter.NextAsync(m => m.GetProperty("type").GetInt32() == 2).DefaultTimeout();
        AssertSameShape(Frame(4), result, "result item");
        Assert.Equal(TaskStatuses.Completed, result.GetProperty("item").GetProperty("result").GetProperty("status").GetString());
        Assert.Equal(Frame(5).GetRawText(), (await submitter.CompletionAsync("8").DefaultTimeout()).GetRawText());
    }
}
