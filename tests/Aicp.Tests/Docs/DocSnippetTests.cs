using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Aicp.Tests.Docs;

/// <summary>
/// Every fenced block in README.md and docs/ is compiled, run or checked against the hub: <see cref="Kinds"/> says which,
/// and a block nobody classified fails <see cref="EveryBlock_IsClassified"/>. C# is compiled (<see cref="ReadmeSnippetTests"/>),
/// commands run in CI or in tests (<see cref="DocCommandsTests"/>), and the rest is checked here.
/// </summary>
public sealed partial class DocSnippetTests
{
    /// <summary>How a block is kept true.</summary>
    public enum Kind
    {
        /// <summary>Commands: .ci/checks/docs-commands.sh runs each, or names the test that does.</summary>
        Commands,

        /// <summary>C# compiled: README's in src/SampleAgents/QuickStart (run against a hub), SDK.md's in Docs/SdkExamples.cs; <see cref="ReadmeSnippetTests"/> compares.</summary>
        CompiledSample,

        /// <summary>Compared with what the hub or the program does, by a test here or in <see cref="DocsConsistencyTests"/>.</summary>
        Checked,

        /// <summary>A picture in text (the way of one task); nothing to run.</summary>
        Diagram,
    }

    /// <summary>Each block, by file and its first line, with its kind.</summary>
    private static readonly (string File, string FirstLine, Kind Kind)[] Kinds =
    [
        ("README.md", "dotnet run --project src/SampleAgents -- demo", Kind.Commands),
        ("README.md", "# 1. the hub (http://127.0.0.1:5000, SignalR endpoint /aicp", Kind.Commands),
        ("README.md", "dotnet run --project src/SampleAgents -- onnx", Kind.Commands),
        ("README.md", "curl -s http://127.0.0.1:5000/v1/tasks", Kind.Commands), // FrontDoors_CurlExamples_AnswerAsDocumented runs them
        ("README.md", "dotnet run --project src/SampleAgents -- chat", Kind.Commands), // FrontDoors_OpenAiCurlExamples_AnswerAsDocumented runs the curls
        ("README.md", "curl -s http://127.0.0.1:5000/mcp", Kind.Commands), // FrontDoors_McpCurlExamples_AnswerAsDocumented runs it
        ("README.md", "await using var agent = new AicpAgent(", Kind.CompiledSample),
        ("README.md", "builder.Services.AddAicpAgent(\"adder-2\"", Kind.CompiledSample),
        ("docs/ARCHITECTURE.md", "submitter --Submit(request)--> AicpHub", Kind.Diagram),
        ("docs/BENCHMARKS.md", "dotnet build -c Release bench/Aicp.Bench", Kind.Commands),
        ("docs/BENCHMARKS.md", "git worktree add /tmp/before 3b2e27f", Kind.Commands),
        ("docs/BENCHMARKS.md", "git worktree add /tmp/before-sdk 7451f97", Kind.Commands),
        ("docs/BENCHMARKS.md", "dotnet bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench.dll dispatch-cost --tasks 200000", Kind.Commands),
        ("docs/BENCHMARKS.md", "bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench connections --agents 1000 --json", Kind.Commands),
        ("docs/BENCHMARKS.md", "bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench failover --json", Kind.Commands),
        ("docs/BENCHMARKS.md", "dotnet build -c Release src/SampleAgents", Kind.Commands),
        ("docs/BENCHMARKS.md", "dotnet run -c Release --project bench/Aicp.Bench -- e2e --agents 4 --submitters 4 --inflight 8 --seconds 8 --json", Kind.Commands),
        ("docs/FRONT-DOORS.md", "curl -s http://127.0.0.1:5000/v1/tasks", Kind.Commands), // FrontDoors_CurlExamples_AnswerAsDocumented runs them
        ("docs/FRONT-DOORS.md", "curl -s http://127.0.0.1:5000/v1/chat/completions", Kind.Commands), // FrontDoors_OpenAiCurlExamples_AnswerAsDocumented
        ("docs/FRONT-DOORS.md", "curl -s http://127.0.0.1:5000/mcp", Kind.Commands), // FrontDoors_McpCurlExamples_AnswerAsDocumented runs them
        ("docs/LABELLER.md", "input  float32 [N,1,28,28]", Kind.Diagram),
        ("docs/LABELLER.md", "bash scripts/fetch-mnist.sh", Kind.Commands),
        ("docs/LABELLER.md", "dotnet run -c Release --project src/SampleAgents -- train --arch mlp", Kind.Commands),
        ("docs/LABELLER.md", "dotnet run --project src/SampleAgents -- onnx --model models/digits.onnx", Kind.Commands),
        ("docs/LABELLER.md", "{ \"inputs\":", Kind.Checked), // OnnxAgentIntegrationTests.Submit_JsonClientSendsBase64Bytes_GetsBase64BytesBack: its keys
        ("docs/LABELLER.md", "# the CNN", Kind.Commands),
        ("docs/LABELLER.md", "serving digits-mlp.onnx as digits.mlp", Kind.Checked), // ReadmePiecesTests.OnnxServing_AsDocumented_LabelsTheDigits
        ("docs/LABELLER.md", "warn: Aicp.SampleAgents.Onnx[2] CUDA execution provider not loaded", Kind.Checked), // OnnxModelTests: category, event, message
        ("docs/LABELLER.md", "dotnet build -c Release src/SampleAgents", Kind.Commands),
        ("docs/OBSERVABILITY.md", "# HELP aicp_tasks_completed_total", Kind.Checked),
        ("docs/OBSERVABILITY.md", "{\"status\":\"Unhealthy\"", Kind.Checked),
        ("docs/OBSERVABILITY.md", "[{\"id\":\"a1\"", Kind.Checked),
        ("docs/OBSERVABILITY.md", "[{\"method\":\"image.label\",\"agents\":2", Kind.Checked),
        ("docs/OBSERVABILITY.md", "[{\"sequence\":10", Kind.Checked),
        ("docs/OBSERVABILITY.md", "[{\"method\":\"image.label\",\"windowSeconds\":60", Kind.Checked),
        ("docs/OBSERVABILITY.md", "{\"at\":", Kind.Checked),
        ("docs/PROTOCOL.md", "→ {\"type\":1,\"invocationId\":\"0\",\"target\":\"Register\"", Kind.Checked),
        ("docs/PROTOCOL.md", "→ {\"type\":1,\"invocationId\":\"7\",\"target\":\"Submit\"", Kind.Checked),
        ("docs/PROTOCOL.md", "→ {\"type\":4,\"invocationId\":\"8\",\"target\":\"SubmitStream\"", Kind.Checked), // Protocol_StreamedExampleFrames_ReplayedAgainstTheHub_HaveTheDocumentedShape
        ("docs/PROTOCOL.md", "import * as signalR from \"@microsoft/signalr\";", Kind.Checked),
        ("docs/SDK.md", "await using var agent = new AicpAgent(", Kind.CompiledSample), // tests/Aicp.Tests/Docs/SdkExamples.cs, each
        ("docs/SDK.md", "agent.Handle<LabelResponse>(", Kind.CompiledSample),
        ("docs/SDK.md", "agent.Handle<ChatRequest, ChatResponse>(", Kind.CompiledSample),
        ("docs/SDK.md", "agent.HandleBatch<LabelRequest, LabelResponse>(", Kind.CompiledSample),
        ("docs/SDK.md", "builder.Services.AddAicpAgent(", Kind.CompiledSample),
        ("docs/SDK.md", "public sealed class LabelHandler(IModel model)", Kind.CompiledSample),
        ("docs/SDK.md", "await using var client = new AicpTaskClient(", Kind.CompiledSample),
        ("docs/SDK.md", "var stream = client.SubmitStream<ChatChunk>(", Kind.CompiledSample),
        ("docs/SDK.md", "try", Kind.CompiledSample),
        ("docs/RELIABILITY.md", "dotnet run -c Release --project bench/Aicp.Bench -- chaos", Kind.Commands),
        ("docs/CLUSTER.md", "redis-server", Kind.Commands), // ClusterDocTests runs them as processes
        ("docs/CLUSTER.md", "docker-compose --profile cluster", Kind.Commands), // .ci/checks/docs-commands.sh validates the profile
        ("docs/CLUSTER.md", "dotnet run -c Release --project bench/Aicp.Bench -- chaos --cluster 3", Kind.Commands), // .ci/checks/docs-commands.sh runs them, smaller
        ("docs/CLUSTER.md", "dotnet run -c Release --project bench/Aicp.Bench -- cluster-herding", Kind.Commands), // .ci/checks/docs-commands.sh runs them, smaller
        ("docs/CLUSTER.md", "{\"cluster\":{\"node\":\"node-2\"", Kind.Checked), // Cluster_StatusSnapshotExample_HasTheShapeTheFeedSends
        ("docs/CLUSTER.md", "{\"node\":\"node-2\"", Kind.Checked), // ClusterDocTests.TwoNodes_AsDocumented_AgentMovesWhenItsNodeIsKilled: the same fields at every level
        ("docs/RELIABILITY.md", "{\"submitted\":20000", Kind.Checked), // .ci/checks/docs-commands.sh: the keys of `chaos --json`
        ("docs/ROUTING.md", "dotnet run -c Release --project bench/Aicp.Bench -- routing-sim", Kind.Commands),
        ("docs/ROUTING.md", "capabilities:", Kind.Checked), // Routing_ConfigurationExample_IsAValidRoutingFile
        ("docs/ROUTING.md", "routers:", Kind.Checked), // Routing_RouterExample_ClassifiesAsDocumented
        ("docs/ROUTING.md", "dotnet run -c Release --project bench/Aicp.Bench -- pick-bench", Kind.Commands),
        ("docs/SECURITY.md", "HTTP/1.1 401 Unauthorized", Kind.Checked),
        ("docs/SECURITY.md", "{ \"ApiKeys\": [", Kind.Checked),
        ("docs/SECURITY.md", "{", Kind.Checked), // the Aicp:Security configuration example
        ("docs/SECURITY.md", "dotnet Aicp.Hub.dll --urls https://0.0.0.0:5001", Kind.Commands),
        ("docs/SECURITY.md", "server {", Kind.Checked), // nginx: .ci/checks/docs-commands.sh runs nginx -t on it
        ("docs/TESTING.md", "bash scripts/mutation.sh Dispatch", Kind.Commands),
    ];

    /// <summary>The kind of <paramref name="block"/>, or null when nobody classified it.</summary>
    public static Kind? KindOf(Markdown.Block block)
    {
        var first = block.Text.Split('\n').First(l => l.Trim().Length > 0).Trim();
        return Kinds.Where(k => k.File == block.File && first.StartsWith(k.FirstLine, StringComparison.Ordinal))
            .Select(k => (Kind?)k.Kind).FirstOrDefault();
    }

    [Fact]
    public void EveryBlock_IsClassified()
    {
        var blocks = Markdown.All.SelectMany(m => m.Blocks()).ToList();

        Assert.All(blocks, b => Assert.True(KindOf(b) is not null,
            $"{b}: a new block in the docs. Add it to DocSnippetTests.Kinds with how it is kept true (compiled, run, checked)."));
        Assert.All(Kinds, k => Assert.True(blocks.Any(b => b.File == k.File && KindOf(b) == k.Kind),
            $"{k.File}: no block starts with '{k.FirstLine}' any more; update DocSnippetTests.Kinds."));
        Assert.All(blocks.Where(b => b.Info == "csharp"), b => Assert.True(KindOf(b) is Kind.CompiledSample or Kind.Checked, $"{b}"));
    }

    private static Markdown.Block BlockStarting(string file, string firstLine) =>
        Markdown.Read(file).Blocks().Single(b => b.Text.TrimStart().StartsWith(firstLine, StringComparison.Ordinal));

    /// <summary>Whether <paramref name="served"/> has the shape of <paramref name="documented"/>: the same keys at every level (a "…" key: at least those), the same kinds of values (a documented string with "…" stands for any value).</summary>
    private static void AssertSameShape(JsonElement documented, JsonElement served, string at)
    {
        if ((documented.ValueKind == JsonValueKind.String && documented.GetString()!.Contains('…'))
            || (documented.ValueKind == JsonValueKind.Object && documented.EnumerateObject().All(p => p.Name == "…")))
        {
            return; // "4f0c…", {…}: any value
        }

        Assert.True(documented.ValueKind == served.ValueKind || (documented.ValueKind is JsonValueKind.True or JsonValueKind.False && served.ValueKind is JsonValueKind.True or JsonValueKind.False),
            $"{at}: documented {documented.ValueKind}, sent {served.ValueKind} ({served})");
        if (documented.ValueKind == JsonValueKind.Object)
        {
            var names = documented.EnumerateObject().Select(p => p.Name).Where(n => n != "…").Order(StringComparer.Ordinal).ToList();
            var sent = served.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            var elided = documented.EnumerateObject().Any(p => p.Name == "…"); // {"a":1,"…":"…"}: a, and more keys
            Assert.True(elided ? names.All(sent.Contains) : names.SequenceEqual(sent), $"{at}: documented keys {string.Join(",", names)}, sent {served}");
            foreach (var property in documented.EnumerateObject().Where(p => p.Name != "…"))
            {
                AssertSameShape(property.Value, served.GetProperty(property.Name), $"{at}.{property.Name}");
            }
        }
        else if (documented.ValueKind == JsonValueKind.Array && documented.GetArrayLength() > 0 && served.GetArrayLength() > 0)
        {
            AssertSameShape(documented[0], served[0], at + "[0]");
        }
    }

    /// <summary>The documented frames of a PROTOCOL.md block: direction (true: sent by the client) and JSON ({…} read as {"…":"…"}).</summary>
    private static List<(bool Sent, JsonElement Frame, string Text)> Frames(string firstLine) =>
        [.. BlockStarting("docs/PROTOCOL.md", firstLine).Text.Split('\n').Where(l => l.Length > 0).Select(l =>
        {
            var json = l[2..].TrimEnd('␞').Replace("{…}", "{\"…\":\"…\"}", StringComparison.Ordinal);
            return (l.StartsWith('→'), JsonDocument.Parse(json).RootElement.Clone(), json);
        })];

    [Fact]
    public async Task Protocol_ExampleFrames_ReplayedAgainstTheHub_AnswersHaveTheDocumentedShape()
    {
        await using var h = await HubHarness.StartAsync();
        var agentFrames = Frames("→ {\"type\":1,\"invocationId\":\"0\",\"target\":\"Register\"");
        var submitterFrames = Frames("→ {\"type\":1,\"invocationId\":\"7\",\"target\":\"Submit\"");
        await using var agent = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);
        await using var submitter = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);

        // Agent: Register as documented; the acknowledgement is exactly the documented one.
        await agent.SendRecordAsync(agentFrames[0].Text);
        Assert.Equal(agentFrames[1].Frame.GetRawText(), (await agent.CompletionAsync("0").DefaultTimeout()).GetRawText());

        // Submitter: Submit as documented; the agent gets the documented Execute and answers with the documented Complete.
        await submitter.SendRecordAsync(submitterFrames[0].Text);
        var execute = await agent.InvocationAsync(HubMethods.Execute).DefaultTimeout();
        AssertSameShape(agentFrames[2].Frame, execute, "Execute");
        var taskId = execute.GetProperty("arguments")[0].GetProperty("taskId").GetString()!;
        await agent.SendRecordAsync(agentFrames[3].Text.Replace("4f0c…", taskId, StringComparison.Ordinal));

        var result = await submitter.CompletionAsync("7").DefaultTimeout();
        AssertSameShape(submitterFrames[1].Frame, result, "Submit result");
        Assert.Equal(TaskStatuses.Completed, result.GetProperty("result").GetProperty("status").GetString());
        Assert.Equal(
            agentFrames[3].Frame.GetProperty("arguments")[0].GetProperty("result").GetRawText(),
            result.GetProperty("result").GetProperty("result").GetRawText());
    }

    [Fact]
    public async Task Protocol_JavaScriptExample_RunsAgainstTheHub()
    {
        await using var h = await HubHarness.StartAsync();
        var snippet = BlockStarting("docs/PROTOCOL.md", "import * as signalR").Text
            .Replace("http://127.0.0.1:5000/aicp", new Uri(h.Hub.BaseUrl, ProtocolDefaults.HubPath).ToString(), StringComparison.Ordinal);
        var script = Path.Combine(NodeClient.InteropDirectory, $"docs-snippet-{Guid.NewGuid():N}.mjs");
        // The snippet as documented, then two lines of the test's own: print the result, close the connection.
        await File.WriteAllTextAsync(script, snippet + "\nconsole.log(JSON.stringify(result));\nawait conn.stop();\n");
        try
        {
            var (exitCode, output) = await ExternalTool.RunAsync(ExternalTool.Require("node", "apt-get install nodejs"), [script]);

            Assert.True(exitCode == 0, output);
            var result = JsonDocument.Parse(output.Split('\n').Last(l => l.StartsWith('{'))).RootElement; // the rest is the client's own log
            Assert.Equal(TaskStatuses.Completed, result.GetProperty("status").GetString());
            Assert.Equal("world", result.GetProperty("result").GetProperty("echo").GetProperty("hello").GetString());
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task Security_RefusedRequestExample_IsWhatTheHubSends()
    {
        var lines = BlockStarting("docs/SECURITY.md", "HTTP/1.1 401 Unauthorized").Text.Split('\n');
        var headers = lines.Skip(1).TakeWhile(l => l.Length > 0).Select(l => l.Split(": ", 2)).ToList();
        var body = lines.SkipWhile(l => l.Length > 0).Skip(1).Single();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        using var response = await http.GetAsync("/v1/stats").DefaultTimeout();

        Assert.Equal(lines[0], $"HTTP/{response.Version} {(int)response.StatusCode} {response.ReasonPhrase}");
        Assert.All(headers, header => Assert.True(header[1] == string.Join(", ", response.Headers.GetValues(header[0])),
            $"{header[0]}: documented '{header[1]}', sent '{string.Join(", ", response.Headers.GetValues(header[0]))}'"));
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Security_KeysFileExample_IsAValidKeysFile()
    {
        var n = 0;
        var text = Regex.Replace(BlockStarting("docs/SECURITY.md", "{ \"ApiKeys\": [").Text, "<sha256 hex>", _ => ApiKeyStore.Hash($"key-{n++}"));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, text);
            var keys = ApiKeysFile.Read(path, out var error);

            Assert.Null(error);
            var errors = new List<string>();
            AicpSecurityOptionsValidator.ValidateKeys(keys!, "example", errors);
            Assert.Empty(errors);
            Assert.Equal(["gpu-fleet", "frontend", "prometheus"], keys!.Select(k => k.Name));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Security_ConfigurationExample_EveryKeyIsASettingThatBinds()
    {
        var block = Markdown.Read("docs/SECURITY.md").Blocks().Single(b => b.Info == "json" && b.Text.StartsWith('{') && b.Text.Contains("\"Aicp\"", StringComparison.Ordinal));
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(block.Text));
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();

        var leaves = configuration.AsEnumerable().Where(kv => kv.Value is not null).Select(kv => kv.Key).ToList();
        Assert.All(leaves, key => Assert.True(Aicp.Hub.Hosting.HubConfigurationCheck.SettingType(key) is not null, $"{key} binds no setting"));
        var options = configuration.GetSection(AicpSecurityOptions.SectionName).Get<AicpSecurityOptions>()!;
        Assert.Equal((20000, 2000), (options.MaxConnections, options.MaxConnectionsPerCredential));
        Assert.True(options.Jwt.IsConfigured);
    }

    [Fact]
    public async Task Security_KeyHashCommand_PrintsTheHashTheHubStores()
    {
        var command = Markdown.Read("docs/SECURITY.md").InlineCode().Select(c => c.Code).Single(c => c.StartsWith("printf %s", StringComparison.Ordinal))
            .Replace("\\|", "|", StringComparison.Ordinal); // a pipe escaped in the table
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["KEY"] = "a-key-to-hash";
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();

        Assert.Equal(ApiKeyStore.Hash("a-key-to-hash"), output.Split(' ')[0]);
    }

    /// <summary>OBSERVABILITY.md's status snapshot has the shape of what <c>SubscribeStatus</c> pushes over a real socket.</summary>
    [Fact]
    public async Task Observability_StatusSnapshotExample_HasTheShapeTheFeedSends()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Dashboard:PushIntervalMs"] = "200" });
        await h.StartAgentAsync("agent-1", HubHarness.Echo("agent-1"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        await using var subscriber = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl);

        await subscriber.SendRecordAsync("{\"type\":1,\"invocationId\":\"1\",\"target\":\"SubscribeStatus\",\"arguments\":[{}]}");
        var push = await subscriber.InvocationAsync("Status").DefaultTimeout();

        var documented = JsonDocument.Parse(BlockStarting("docs/OBSERVABILITY.md", "{\"at\":").Text.Replace("\"...\"", "\"…\"", StringComparison.Ordinal)).RootElement;
        var snapshot = push.GetProperty("arguments")[0];
        AssertSameShape(documented, snapshot, "Status");
        Assert.Equal("agent-1", snapshot.GetProperty("agents").GetProperty("items")[0].GetProperty("id").GetString());
        Assert.True(snapshot.GetProperty("routes").GetArrayLength() > 0, $"{snapshot}");
    }

    [Fact]
    public void Observability_ExpositionExample_UsesDeclaredFamiliesAndHelpTexts()
    {
        var declared = typeof(MetricFamilies).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(MetricFamily)).Select(f => (MetricFamily)f.GetValue(null)!).ToDictionary(f => f.Name);
        var lines = BlockStarting("docs/OBSERVABILITY.md", "# HELP aicp_tasks_completed_total").Text.Split('\n').Where(l => l != "...").ToList();

        foreach (var line in lines)
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                Assert.Equal(declared[parts[2]].Help, parts[3]);
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Assert.Contains(line.Split(' ')[2], declared.Keys);
            }
            else
            {
                var series = line.Split('{')[0];
                var family = declared.Keys.Single(k => series == k || series == k + "_sum" || series == k + "_count" || series == k + "_bucket");
                var labels = Regex.Matches(line, @"(\w+)=""").Select(m => m.Groups[1].Value).Where(l => l != "le");
                Assert.Equal(declared[family].Labels.Order(StringComparer.Ordinal), labels.Order(StringComparer.Ordinal));
            }
        }
    }
}
