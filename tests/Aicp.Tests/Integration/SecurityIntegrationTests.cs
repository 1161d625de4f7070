using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aicp.Tests.Integration;

/// <summary>API keys, JWTs, roles, agent bindings, status access, payload limit and rate limit over real sockets.</summary>
public sealed class SecurityIntegrationTests
{
    private const string AgentKey = TestCredentials.AgentKey;
    private const string SubmitterKey = TestCredentials.SubmitterKey;
    private const string AdminKey = TestCredentials.AdminKey;
    private const string WorkerKey = TestCredentials.WorkerKey; // agent + submitter

    private static Dictionary<string, string?> Secured(Dictionary<string, string?>? extra = null) => TestCredentials.Secured(extra);

    private static string Jwt(params string[] roles) => TestCredentials.Jwt(roles);

    [Fact]
    public async Task Connect_KeysConfiguredNoToken_Refused401()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var error = await Assert.ThrowsAsync<WebSocketException>(() => RawHubSocket.ConnectAsync(h.Hub.BaseUrl));
        Assert.Contains("401", error.Message);
    }

    [Fact]
    public async Task Connect_UnknownKey_Refused401()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var error = await Assert.ThrowsAsync<WebSocketException>(() => RawHubSocket.ConnectAsync(h.Hub.BaseUrl, "not-a-key"));
        Assert.Contains("401", error.Message);
    }

    [Fact]
    public async Task Submit_AgentKeyWithinBindingAndSubmitterKey_Completes()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: AgentKey);
        var client = await h.StartClientAsync(SubmitterKey);
        var result = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("gpu-1", result.AgentId);
    }

    [Theory]
    [InlineData("cpu-1", "image.label")] // id outside gpu-*
    [InlineData("gpu-2", "text.summarize")] // capability outside image.*
    public async Task Register_OutsideKeyBinding_RefusedForbidden(string agentId, string capability)
    {
        await using var h = await HubHarness.StartAsync(Secured());
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, AgentKey);
        await socket.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = agentId, Capabilities = [capability] });
        var ack = (await socket.CompletionAsync("1")).GetProperty("result");
        Assert.False(ack.GetProperty("accepted").GetBoolean());
        Assert.Equal(ErrorCodes.Forbidden, ack.GetProperty("error").GetProperty("code").GetString());
        Assert.Null(h.Registry.GetById(agentId));
    }

    [Fact]
    public async Task Register_SubmitterKey_RefusedForbidden()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, SubmitterKey);
        await socket.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = "gpu-1", Capabilities = ["image.label"] });
        var ack = (await socket.CompletionAsync("1")).GetProperty("result");
        Assert.Equal(ErrorCodes.Forbidden, ack.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task Register_AgentSdkOutsideBinding_StartFailsForbidden()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var agent = h.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "cpu-9", AccessToken = AgentKey,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        }).Handle("image.label", HubHarness.Echo("cpu-9")));

        var refused = await Assert.ThrowsAsync<AicpRegistrationRefusedException>(() => agent.StartAsync()).DefaultTimeout();

        Assert.Equal(ErrorCodes.Forbidden, refused.ErrorCode);
        Assert.Equal(ErrorCodes.Forbidden, agent.Registration?.Error?.Code);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task Submit_AgentOnlyKey_RejectedForbiddenAndCounted()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var client = await h.StartClientAsync(AgentKey);
        var result = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(ErrorCodes.Forbidden, result.Error?.Code);
        Assert.Equal(1, h.Counters.Submitted);
        Assert.Equal(1, h.Counters.Snapshot()[TaskStatuses.Rejected]);
    }

    [Fact]
    public async Task Submit_KeyWithAgentAndSubmitterRoles_Completes()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        await h.StartAgentAsync("anything", HubHarness.Echo("anything"), accessToken: WorkerKey);
        var client = await h.StartClientAsync(WorkerKey);
        var result = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
    }

    [Fact]
    public async Task Complete_FromSubmitterConnection_IgnoredAndCounted()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, SubmitterKey);
        await socket.InvokeAsync(HubMethods.Complete, "1", new TaskCompletion { TaskId = "t1", Attempt = 1, Ok = true });
        await socket.CompletionAsync("1");
        Assert.Equal(1, h.Counters.ForbiddenCalls);
        Assert.Equal(0, h.Counters.LateCompletions); // never reached the dispatcher
    }

    [Fact]
    public async Task Submit_JwtWithSubmitterRole_CompletesAndAgentWithJwtInQuery()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var agent = h.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "jwt-agent", SendAccessTokenInQuery = true,
            AccessTokenProvider = _ => ValueTask.FromResult<string?>(Jwt("agent")),
        }).Handle("image.label", HubHarness.Echo("jwt-agent")));
        await agent.StartAsync().DefaultTimeout();

        var client = await h.StartClientAsync(Jwt("submitter"));
        var result = await client.SubmitAsync("image.label", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("jwt-agent", result.AgentId);
    }

    [Fact]
    public async Task Connect_JwtWithWrongSignature_Refused401()
    {
        await using var h = await HubHarness.StartAsync(Secured());
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "test-issuer", Audience = "aicp", Claims = new Dictionary<string, object> { ["role"] = "admin" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(new string('x', 40))), SecurityAlgorithms.HmacSha256),
        });
        var error = await Assert.ThrowsAsync<WebSocketException>(() => RawHubSocket.ConnectAsync(h.Hub.BaseUrl, forged));
        Assert.Contains("401", error.Message);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(SubmitterKey, HttpStatusCode.Forbidden)]
    [InlineData(AdminKey, HttpStatusCode.OK)]
    public async Task Status_KeysConfigured_NeedsAdmin(string? key, HttpStatusCode expected)
    {
        await using var h = await HubHarness.StartAsync(Secured());
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/stats");
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz").DefaultTimeout()).StatusCode);
    }

    [Fact]
    public async Task Status_OpenOnLoopbackConfigured_AnswersWithoutCredentials()
    {
        await using var h = await HubHarness.StartAsync(Secured(new() { ["Aicp:Security:StatusOpenOnLoopback"] = "true" }));
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var response = await http.GetAsync("/v1/agents").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Status_OpenModeOnLoopback_AnswersWithoutCredentials()
    {
        await using var h = await HubHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var response = await http.GetAsync("/v1/stats").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Submit_PayloadOverLimit_RejectedPayloadTooLarge()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:MaxPayloadBytes"] = "1024" });
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        var ok = await client.SubmitAsync("image.label", new string('x', 1000)).DefaultTimeout();
        var big = await client.SubmitAsync("image.label", new string('x', 1100)).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, ok.Status);
        Assert.Equal(TaskStatuses.Rejected, big.Status);
        Assert.Equal(ErrorCodes.PayloadTooLarge, big.Error?.Code);
        Assert.Contains("1024", big.Error?.Message);
    }

    [Fact]
    public async Task Submit_OverRateLimit_RateLimitedAndCounted()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:Security:RateLimit:TokenLimit"] = "3",
            ["Aicp:Security:RateLimit:TokensPerPeriod"] = "1",
            ["Aicp:Security:RateLimit:ReplenishmentPeriodMs"] = "600000",
        });
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        var statuses = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        }

        Assert.Equal([TaskStatuses.Completed, TaskStatuses.Completed, TaskStatuses.Completed, TaskStatuses.RateLimited, TaskStatuses.RateLimited], statuses);
        var other = await h.StartClientAsync(); // anonymous callers are partitioned by connection
        Assert.Equal(TaskStatuses.Completed, (await other.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        Assert.Equal(2, h.Counters.Snapshot()[TaskStatuses.RateLimited]);
        Assert.Equal(6, h.Counters.Submitted);
    }

    [Fact]
    public async Task Start_NonLoopbackWithoutKeys_Refuses()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => HubHarness.StartAsync(url: "http://0.0.0.0:0"));
        Assert.Contains("AllowAnonymous", error.ToString());
    }
}
