using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aicp.Hub.FrontDoors;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Aicp.Tests.Integration.FrontDoors;

/// <summary>
/// The MCP door at <c>/mcp</c> over real loopback sockets, driven by the official MCP C# client over streamable HTTP:
/// the four tools, their schemas, the task path of <c>POST /v1/tasks</c>, the roles and the door's metrics.
/// </summary>
public sealed class McpDoorTests
{
    private static readonly string[] ToolNames = ["gateway_stats", "health_check", "list_models", "route_request"];

    private static async Task<McpClient> ConnectAsync(HubHarness h, string? token = null)
    {
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(h.Hub.BaseUrl, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = token is null ? null : new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
        };
        return h.Own(await McpClient.CreateAsync(new HttpClientTransport(options)).DefaultTimeout());
    }

    private static Task<CallToolResult> CallAsync(McpClient client, string tool, object? arguments = null) => client.CallToolAsync(tool,
        arguments is null ? null : JsonSerializer.SerializeToElement(arguments).EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value)).AsTask().DefaultTimeout();

    /// <summary>The one text block of a tool result, as JSON.</summary>
    private static JsonElement Json(CallToolResult result) => JsonSerializer.Deserialize<JsonElement>(Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);

    private static string? ErrorCode(CallToolResult result) =>
        Json(result).TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;

    [Fact]
    public async Task ListTools_OpenHub_ExactlyTheFourToolsWithTheirInputSchemas()
    {
        await using var h = await HubHarness.StartAsync();
        var client = await ConnectAsync(h);

        var tools = await client.ListToolsAsync().AsTask().DefaultTimeout();

        Assert.Equal(ToolNames, tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        var route = tools.Single(t => t.Name == "route_request").JsonSchema;
        Assert.Equal("object", route.GetProperty("type").GetString());
        Assert.Equal(["fallbacks", "payload", "strategy", "target", "timeoutMs"],
            route.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["target"], route.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains("string", route.GetProperty("properties").GetProperty("target").GetProperty("type").ToString());
        Assert.Contains("integer", route.GetProperty("properties").GetProperty("timeoutMs").GetProperty("type").ToString());
        Assert.Contains("array", route.GetProperty("properties").GetProperty("fallbacks").GetProperty("type").ToString());
        foreach (var name in ToolNames.Where(n => n != "route_request"))
        {
            var schema = tools.Single(t => t.Name == name).JsonSchema;
            Assert.Equal("object", schema.GetProperty("type").GetString());
            Assert.True(!schema.TryGetProperty("properties", out var properties) || !properties.EnumerateObject().Any(), name + " takes no arguments");
        }
    }

    [Fact]
    public async Task CallTools_OpenHub_RouteRequestRunsTheTaskAndStatusToolsAnswer()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("echo-1", (task, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { echo = task.GetPayload<JsonElement>() })));
        var client = await ConnectAsync(h);

        var completed = await CallAsync(client, "route_request", new { target = "image.label", payload = new { n = 7 }, strategy = "round-robin", timeoutMs = 5000 });
        var noAgents = await CallAsync(client, "route_request", new { target = "text.nobody", payload = "hi" });
        var badStrategy = await CallAsync(client, "route_request", new { target = "image.label", strategy = "fastest" });
        var models = await CallAsync(client, "list_models");
        var stats = await CallAsync(client, "gateway_stats");
        var health = await CallAsync(client, "health_check");

        Assert.NotEqual(true, completed.IsError);
        var result = Json(completed);
        Assert.Equal(TaskStatuses.Completed, result.GetProperty("status").GetString());
        Assert.Equal(7, result.GetProperty("result").GetProperty("echo").GetProperty("n").GetInt32());
        Assert.Equal("echo-1", result.GetProperty("agentId").GetString());
        Assert.Equal("round-robin", result.GetProperty("strategy").GetString());
        Assert.Equal(1, result.GetProperty("route").GetArrayLength());

        Assert.True(noAgents.IsError);
        Assert.Equal(TaskStatuses.NoAgents, Json(noAgents).GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.NoAgents, ErrorCode(noAgents));
        Assert.True(badStrategy.IsError);
        Assert.Equal((TaskStatuses.Rejected, ErrorCodes.UnknownStrategy), (Json(badStrategy).GetProperty("status").GetString(), ErrorCode(badStrategy)));

        Assert.NotEqual(true, models.IsError);
        var label = Json(models).EnumerateArray().Single(m => m.GetProperty("id").GetString() == "image.label");
        Assert.Equal("image.label", label.GetProperty("capability").GetString());
        Assert.False(label.GetProperty("mapped").GetBoolean());
        Assert.Equal(1, label.GetProperty("agents").GetInt32());

        Assert.NotEqual(true, stats.IsError);
        var totals = Json(stats);
        Assert.Equal(1, totals.GetProperty("agents").GetInt32());
        Assert.Equal(1, totals.GetProperty("tasks").GetProperty("completed").GetInt64());
        Assert.Equal(1, totals.GetProperty("frontDoors").GetProperty("mcp").GetProperty(TaskStatuses.Completed).GetInt64());
        Assert.Equal(1, totals.GetProperty("frontDoors").GetProperty("mcp").GetProperty(TaskStatuses.NoAgents).GetInt64());

        Assert.NotEqual(true, health.IsError);
        var ready = Json(health);
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("ready").GetBoolean());
        Assert.Equal(1, ready.GetProperty("agents").GetInt32());
        Assert.Empty(ready.GetProperty("capabilitiesWithoutHealthyAgents").EnumerateArray());
        var capability = ready.GetProperty("capabilities").EnumerateArray().Single(c => c.GetProperty("method").GetString() == "image.label");
        Assert.Equal((1, 1), (capability.GetProperty("agents").GetInt32(), capability.GetProperty("healthyAgents").GetInt32()));
        Assert.Equal(1, capability.GetProperty("circuits").GetProperty("closed").GetInt32());

        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.Completed));
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.NoAgents));
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.Rejected));
        Assert.Equal(0, doors.FrontDoor("http", TaskStatuses.Completed));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task RouteRequest_ModelNameAndFallbacks_ResolvedThroughTheModelMapBeforeCapabilities()
    {
        var directory = Directory.CreateTempSubdirectory("aicp-mcp-").FullName;
        try
        {
            var routingFile = Path.Combine(directory, "routing.yaml");
            File.WriteAllText(routingFile, "models:\n  labeller: { capability: image.label, strategy: round-robin }\n  chain: { capability: text.nobody, fallbacks: [image.label] }\n");
            await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = routingFile });
            await h.StartAgentAsync("echo-1", HubHarness.Echo("echo-1"));
            var client = await ConnectAsync(h);

            var byModel = Json(await CallAsync(client, "route_request", new { target = "labeller", payload = 1 }));
            var ownStrategy = Json(await CallAsync(client, "route_request", new { target = "labeller", strategy = "least-loaded" }));
            var byCapability = Json(await CallAsync(client, "route_request", new { target = "image.label" }));
            var byChain = Json(await CallAsync(client, "route_request", new { target = "chain" }));
            var ownFallbacks = Json(await CallAsync(client, "route_request", new { target = "text.nobody", fallbacks = new[] { "image.label" } }));
            var badFallbacks = await CallAsync(client, "route_request", new { target = "text.nobody", fallbacks = new[] { "text.nobody" } });
            var models = Json(await CallAsync(client, "list_models")).EnumerateArray().ToList();

            Assert.Equal((TaskStatuses.Completed, "round-robin", "echo-1"),
                (byModel.GetProperty("status").GetString(), byModel.GetProperty("strategy").GetString(), byModel.GetProperty("agentId").GetString()));
            Assert.Equal((TaskStatuses.Completed, "least-loaded"), (ownStrategy.GetProperty("status").GetString(), ownStrategy.GetProperty("strategy").GetString()));
            Assert.Equal(TaskStatuses.Completed, byCapability.GetProperty("status").GetString());
            foreach (var fellBack in new[] { byChain, ownFallbacks })
            {
                Assert.Equal(TaskStatuses.Completed, fellBack.GetProperty("status").GetString());
                Assert.Equal("image.label", fellBack.GetProperty("route").EnumerateArray().Last().GetProperty("method").GetString());
            }

            Assert.True(badFallbacks.IsError);
            Assert.Equal(ErrorCodes.InvalidFallbacks, ErrorCode(badFallbacks));
            Assert.Equal([("chain", "text.nobody", true, 0), ("labeller", "image.label", true, 1), ("image.label", "image.label", false, 1)], models.Select(m =>
                (m.GetProperty("id").GetString(), m.GetProperty("capability").GetString(), m.GetProperty("mapped").GetBoolean(), m.GetProperty("agents").GetInt32())));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Credentials_NoKey401_RolesDecideWhichToolsAnswer()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:Security:MetricsAccess"] = "Open" }));
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        var request = new { target = "image.label", payload = new { n = 1 } };

        var none = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(h));
        var invalid = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(h, "not-a-key"));
        var submitter = await ConnectAsync(h, TestCredentials.SubmitterKey);
        var agent = await ConnectAsync(h, TestCredentials.AgentKey);
        var admin = await ConnectAsync(h, TestCredentials.AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
        using (var http = new HttpClient { BaseAddress = h.Hub.BaseUrl, Timeout = TestTimeouts.Default })
        {
            using var raw = await http.PostAsync("/mcp", new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json")).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
            Assert.Equal(ErrorCodes.Unauthorized, raw.Headers.GetValues(ProtocolDefaults.ErrorCodeHeader).Single());
        }

        var allowed = await CallAsync(submitter, "route_request", request);
        Assert.NotEqual(true, allowed.IsError);
        Assert.Equal(TaskStatuses.Completed, Json(allowed).GetProperty("status").GetString());

        foreach (var forbidden in new[] { await CallAsync(agent, "route_request", request), await CallAsync(admin, "route_request", request) })
        {
            Assert.True(forbidden.IsError);
            Assert.Equal((TaskStatuses.Rejected, ErrorCodes.Forbidden), (Json(forbidden).GetProperty("status").GetString(), ErrorCode(forbidden)));
        }

        foreach (var tool in ToolNames.Where(n => n != "route_request"))
        {
            var refused = await CallAsync(submitter, tool);
            Assert.True(refused.IsError, tool);
            Assert.Equal(ErrorCodes.Forbidden, ErrorCode(refused));
            Assert.Contains("admin", Json(refused).GetProperty("error").GetProperty("message").GetString());

            var answered = await CallAsync(admin, tool);
            Assert.NotEqual(true, answered.IsError);
        }

        Assert.Equal(1, Json(await CallAsync(admin, "list_models")).EnumerateArray().Single().GetProperty("agents").GetInt32());
        Assert.Equal(1, Json(await CallAsync(admin, "gateway_stats")).GetProperty("frontDoors").GetProperty("mcp").GetProperty(TaskStatuses.Completed).GetInt64());

        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(3, doors.FrontDoor("mcp", FrontDoorNames.Unauthorized)); // two clients, one raw request
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.Completed));
        Assert.Equal(2, doors.FrontDoor("mcp", TaskStatuses.Rejected));
        Assert.Equal(0, doors.FrontDoor("http", FrontDoorNames.Unauthorized));
    }

    [Fact]
    public async Task StatusTools_StatusOpenOnLoopback_AnswerALoopbackSubmitter()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:Security:StatusOpenOnLoopback"] = "true" }));
        var submitter = await ConnectAsync(h, TestCredentials.SubmitterKey);

        var health = await CallAsync(submitter, "health_check");

        Assert.NotEqual(true, health.IsError);
        Assert.Equal(0, Json(health).GetProperty("agents").GetInt32());
    }

    [Fact]
    public async Task RouteRequest_CallerCancels_TheTaskIsCancelledAndTheAgentToo()
    {
        await using var h = await HubHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var agentCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("slow-1", async (_, ct) =>
        {
            await using var registration = ct.Register(() => agentCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        var client = await ConnectAsync(h);
        using var cancel = new CancellationTokenSource();

        var call = client.CallToolAsync("route_request", new Dictionary<string, object?> { ["target"] = "image.label" }, cancellationToken: cancel.Token).AsTask();
        await started.Task.DefaultTimeout();
        await cancel.CancelAsync().DefaultTimeout();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.DefaultTimeout());
        await agentCancelled.Task.DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Counters.Finished(TaskStatuses.Cancelled) == 1, "the task finished cancelled");
        Assert.Equal(1, (await MetricsScrape.FetchAsync(h.Hub.BaseUrl)).FrontDoor("mcp", TaskStatuses.Cancelled));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task BadInput_MalformedJsonRpcOversizeBodyAndPayload_ErrorsAndTheHubStaysUp()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:MaxMessageBytes"] = "8192", ["Aicp:Security:MaxPayloadBytes"] = "2048", ["Aicp:Security:MaxResultBytes"] = "4096" });
        await h.StartAgentAsync("echo-1", HubHarness.Echo("echo-1"));
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl, Timeout = TestTimeouts.Default };

        using var malformed = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":""", Encoding.UTF8, "application/json") };
        malformed.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        malformed.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(malformed).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var answer = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.Equal("2.0", answer.GetProperty("jsonrpc").GetString());
        Assert.Equal(-32600, answer.GetProperty("error").GetProperty("code").GetInt32()); // the SDK's "invalid request": not a JSON-RPC message

        using var get = await http.GetAsync("/mcp").DefaultTimeout();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode); // stateless: no standalone stream to open

        var client = await ConnectAsync(h);
        var bodyTooLarge = await Assert.ThrowsAsync<HttpRequestException>(() => CallAsync(client, "route_request", new { target = "image.label", payload = new string('x', 10_000) }));
        var tooLarge = await CallAsync(client, "route_request", new { target = "image.label", payload = new string('x', 3_000) });
        var blank = await CallAsync(client, "route_request", new { target = " " });
        var noTarget = await CallAsync(client, "route_request", new { payload = 1 });
        var wrongType = await CallAsync(client, "route_request", new { target = "image.label", timeoutMs = "soon" });
        var stillServes = await CallAsync(client, "route_request", new { target = "image.label", payload = 1 });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bodyTooLarge.StatusCode); // the body over Aicp:MaxMessageBytes, refused before it is parsed
        Assert.True(tooLarge.IsError);
        Assert.Equal((TaskStatuses.Rejected, ErrorCodes.PayloadTooLarge), (Json(tooLarge).GetProperty("status").GetString(), ErrorCode(tooLarge)));
        foreach (var refused in new[] { blank, noTarget, wrongType })
        {
            Assert.True(refused.IsError);
            Assert.Equal(ErrorCodes.InvalidRequest, ErrorCode(refused));
        }

        Assert.Contains("'target'", Json(noTarget).GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("Int32", Json(wrongType).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(TaskStatuses.Completed, Json(stillServes).GetProperty("status").GetString());
        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(3, doors.FrontDoor("mcp", FrontDoorNames.InvalidRequest)); // blank, missing, wrong type: refused before a task
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.Rejected));
        Assert.Equal(1, doors.FrontDoor("mcp", TaskStatuses.Completed));
        await h.AssertNothingPendingAsync();
    }
}
