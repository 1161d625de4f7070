using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.FrontDoors;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.FrontDoors;

/// <summary><c>POST /v1/tasks</c> over real loopback sockets: the same dispatcher, gate and result as <c>Submit</c>.</summary>
public sealed class HttpTaskDoorTests
{
    private static HttpClient Http(HubHarness h, string? token = null) => h.HttpClient(token);

    private static StringContent Json(string json) => HubHarness.Json(json);

    private static async Task<(HttpStatusCode Status, JsonElement Body, string? Code)> PostAsync(HttpClient http, HttpContent content)
    {
        using var response = await http.PostAsync("/v1/tasks", content).DefaultTimeout();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();
        return (response.StatusCode, body, response.Headers.TryGetValues(ProtocolDefaults.ErrorCodeHeader, out var codes) ? codes.Single() : null);
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task PostTask_AgentAnswers_200WithTheSubmitResult(HubProtocol agentProtocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: agentProtocol);
        await h.StartAgentAsync<JsonElement>("echo-1", (task, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { echo = task.GetPayload<JsonElement>() })));
        using var http = Http(h);

        var (status, body, code) = await PostAsync(http, Json("""{"method":"image.label","payload":{"n":7,"text":"seven"},"strategy":"round-robin","timeoutMs":5000}"""));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(code);
        Assert.Equal(TaskStatuses.Completed, body.GetProperty("status").GetString());
        Assert.Equal(7, body.GetProperty("result").GetProperty("echo").GetProperty("n").GetInt32());
        Assert.Equal("echo-1", body.GetProperty("agentId").GetString());
        Assert.Equal("round-robin", body.GetProperty("strategy").GetString());
        Assert.Equal(1, body.GetProperty("route").GetArrayLength());
        Assert.False(body.TryGetProperty("error", out _)); // nulls are left out, as over the SignalR JSON protocol
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task PostTask_EachFinalStatus_TypedHttpStatusAndErrorCodeHeader()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("failing", (_, _) => throw new AgentTaskException("model_error", "the model failed"), method: "text.fail");
        await h.StartAgentAsync("silent", async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        }, method: "text.slow");
        using var http = Http(h);

        var noAgents = await PostAsync(http, Json("""{"method":"nobody.serves.this"}"""));
        var failed = await PostAsync(http, Json("""{"method":"text.fail","maxAttempts":1}"""));
        var timeout = await PostAsync(http, Json("""{"method":"text.slow","timeoutMs":50,"maxAttempts":1}"""));
        var unknownStrategy = await PostAsync(http, Json("""{"method":"text.fail","strategy":"fastest"}"""));
        var badTimeout = await PostAsync(http, Json("""{"method":"text.fail","timeoutMs":0}"""));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, ErrorCodes.NoAgents), (noAgents.Status, noAgents.Code));
        Assert.Equal(TaskStatuses.NoAgents, noAgents.Body.GetProperty("status").GetString());
        Assert.Equal((HttpStatusCode.BadGateway, "model_error"), (failed.Status, failed.Code));
        Assert.Equal(TaskStatuses.Failed, failed.Body.GetProperty("status").GetString());
        Assert.Equal((HttpStatusCode.GatewayTimeout, ErrorCodes.AgentTimeout), (timeout.Status, timeout.Code));
        Assert.Equal((HttpStatusCode.BadRequest, ErrorCodes.UnknownStrategy), (unknownStrategy.Status, unknownStrategy.Code));
        Assert.Equal((HttpStatusCode.BadRequest, ErrorCodes.InvalidTimeout), (badTimeout.Status, badTimeout.Code));
        Assert.Equal(TaskStatuses.Rejected, badTimeout.Body.GetProperty("status").GetString());
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task PostTask_BadInput_RejectedWithInvalidRequestOrPayloadTooLargeAndHubStaysUp()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:MaxMessageBytes"] = "8192", ["Aicp:Security:MaxPayloadBytes"] = "2048", ["Aicp:Security:MaxResultBytes"] = "4096",
        });
        await h.StartAgentAsync("echo-1", HubHarness.Echo("echo-1"));
        using var http = Http(h);

        var malformed = await PostAsync(http, Json("""{"method":"image.label","payload":{"""));
        var notAnObject = await PostAsync(http, Json("""["image.label"]"""));
        var wrongType = await PostAsync(http, Json("""{"method":"image.label","timeoutMs":"soon"}"""));
        var empty = await PostAsync(http, Json(""));
        var bodyTooLarge = await PostAsync(http, Json($$"""{"method":"image.label","payload":"{{new string('x', 10_000)}}"}"""));
        var chunkedTooLarge = await PostAsync(http, new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string(' ', 20_000) + "{}"))));
        var payloadTooLarge = await PostAsync(http, Json($$"""{"method":"image.label","payload":"{{new string('x', 3_000)}}"}"""));
        var stillServes = await PostAsync(http, Json("""{"method":"image.label","payload":1}"""));

        foreach (var refused in new[] { malformed, notAnObject, wrongType, empty })
        {
            Assert.Equal((HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest), (refused.Status, refused.Code));
            Assert.Equal(TaskStatuses.Rejected, refused.Body.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(refused.Body.GetProperty("error").GetProperty("message").GetString()));
        }

        foreach (var refused in new[] { bodyTooLarge, chunkedTooLarge, payloadTooLarge })
        {
            Assert.Equal((HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge), (refused.Status, refused.Code));
        }

        Assert.Equal(HttpStatusCode.OK, stillServes.Status);
        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(6, doors.FrontDoor("http", FrontDoorNames.InvalidRequest)); // refused before a task: malformed, not an object, wrong type, empty, two too large
        Assert.Equal(1, doors.FrontDoor("http", TaskStatuses.Rejected));           // the gate's payload limit: a task, refused
        Assert.Equal(1, doors.FrontDoor("http", TaskStatuses.Completed));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task PostTask_Credentials_401WithoutKey403ForAnAgentKey429OverTheRateLimit()
    {
        var settings = TestCredentials.Secured(new() { ["Aicp:Security:MetricsAccess"] = "Open" });
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("metered", "metered-secret-0009", ["submitter"], RateLimit: (1, 1, 600_000)));
        await using var h = await HubHarness.StartAsync(settings);
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        const string Request = """{"method":"image.label","payload":{"n":1}}""";

        using var anonymous = Http(h);
        using var wrongKey = Http(h, "not-a-key");
        using var agentKey = Http(h, TestCredentials.AgentKey);
        using var submitter = Http(h, TestCredentials.SubmitterKey);
        using var metered = Http(h, "metered-secret-0009");
        var none = await PostAsync(anonymous, Json(Request));
        var invalid = await PostAsync(wrongKey, Json(Request));
        var forbidden = await PostAsync(agentKey, Json(Request));
        var allowed = await PostAsync(submitter, Json(Request));
        var first = await PostAsync(metered, Json(Request));
        var limited = await PostAsync(metered, Json(Request));

        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized), (none.Status, none.Code));
        Assert.Equal(ErrorCodes.Unauthorized, none.Body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized), (invalid.Status, invalid.Code));
        Assert.Equal((HttpStatusCode.Forbidden, ErrorCodes.Forbidden), (forbidden.Status, forbidden.Code));
        Assert.Equal(TaskStatuses.Rejected, forbidden.Body.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.TooManyRequests, ErrorCodes.RateLimited), (limited.Status, limited.Code));

        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(2, doors.FrontDoor("http", FrontDoorNames.Unauthorized));
        Assert.Equal(1, doors.FrontDoor("http", TaskStatuses.Rejected));
        Assert.Equal(2, doors.FrontDoor("http", TaskStatuses.Completed));
        Assert.Equal(1, doors.FrontDoor("http", TaskStatuses.RateLimited));
        Assert.Equal(0, doors.FrontDoor("signalr_stream", TaskStatuses.Completed)); // every door's series exists from the start
    }
}
