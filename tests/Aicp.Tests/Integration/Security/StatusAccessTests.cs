using System.Net;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aicp.Tests.Integration.Security;

/// <summary>Status data (agents, capabilities, routes, capacity, cluster) is for admins only, over the hub methods as over HTTP.</summary>
public sealed class StatusAccessTests
{
    public static TheoryData<string, string, bool> RolesAndMethods()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var role in new[] { AicpRoles.Agent, AicpRoles.Submitter, AicpRoles.Admin })
        {
            foreach (var method in new[] { "GetAgents", "GetCapabilities", "GetRoutes", "GetCapacity", "GetCluster" })
            {
                data.Add(role, method, role == AicpRoles.Admin);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RolesAndMethods))]
    public async Task StatusMethod_ByRole_OnlyAdminAnswered(string role, string method, bool allowed)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        await using var connection = await ConnectAsync(h, TestCredentials.KeyOfRole[role]);

        var call = method == "GetRoutes"
            ? connection.Connection.InvokeAsync<object>(method, 10)
            : connection.Connection.InvokeAsync<object>(method);
        if (allowed)
        {
            Assert.NotNull(await call.DefaultTimeout());
            Assert.Equal(0, h.Counters.ForbiddenCalls);
        }
        else
        {
            var error = await Assert.ThrowsAsync<HubException>(() => call).DefaultTimeout();
            Assert.Contains($"{ErrorCodes.Forbidden}: {method} needs the 'admin' role", error.Message);
            Assert.Equal(1, h.Counters.ForbiddenCalls);
            Assert.Equal(1, h.Counters.SecurityEvents()["role_refused"]);
        }

        Assert.True(connection.State == AicpConnectionState.Connected); // a refused call leaves the connection up
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task GetAgents_SubmitterKey_RefusedWithoutAgentData(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(), protocol: protocol);
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        await using var submitter = await ConnectAsync(h, TestCredentials.SubmitterKey);
        await using var admin = await ConnectAsync(h, TestCredentials.AdminKey);

        var error = await Assert.ThrowsAsync<HubException>(() => submitter.Connection.InvokeAsync<AgentStatus[]>("GetAgents")).DefaultTimeout();
        Assert.DoesNotContain("gpu-1", error.Message);
        var agents = await admin.Connection.InvokeAsync<AgentStatus[]>("GetAgents").DefaultTimeout();
        Assert.Equal("gpu-1", Assert.Single(agents).Id);
    }

    [Fact]
    public async Task StatusMethod_StatusOpenOnLoopback_AnswersLoopbackCallerWithoutAdmin()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:Security:StatusOpenOnLoopback"] = "true" }));
        await using var submitter = await ConnectAsync(h, TestCredentials.SubmitterKey);

        Assert.Empty(await submitter.Connection.InvokeAsync<AgentStatus[]>("GetAgents").DefaultTimeout());
    }

    [Fact]
    public async Task StatusMethod_OpenMode_Answered()
    {
        await using var h = await HubHarness.StartAsync();
        await using var anonymous = await ConnectAsync(h, null);

        Assert.Empty(await anonymous.Connection.InvokeAsync<CapacityPlan[]>("GetCapacity").DefaultTimeout());
    }

    public static TheoryData<string, string?, HttpStatusCode> RoutesAndRoles()
    {
        var data = new TheoryData<string, string?, HttpStatusCode>();
        foreach (var route in new[] { "/v1/agents", "/v1/capabilities", "/v1/routes?limit=5", "/v1/capacity", "/v1/stats" })
        {
            data.Add(route, null, HttpStatusCode.Unauthorized);
            data.Add(route, AicpRoles.Agent, HttpStatusCode.Forbidden);
            data.Add(route, AicpRoles.Submitter, HttpStatusCode.Forbidden);
            data.Add(route, AicpRoles.Metrics, HttpStatusCode.Forbidden);
            data.Add(route, AicpRoles.Admin, HttpStatusCode.OK);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoutesAndRoles))]
    public async Task StatusRoute_ByRole_OnlyAdminAnswered(string route, string? role, HttpStatusCode expected)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, route);
        if (role is not null)
        {
            request.Headers.Authorization = new("Bearer", TestCredentials.KeyOfRole[role]);
        }

        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.Equal(expected, response.StatusCode);
        var events = h.Counters.SecurityEvents();
        Assert.Equal(expected == HttpStatusCode.Unauthorized ? 1 : 0, events["authentication_failed"]);
        Assert.Equal(expected == HttpStatusCode.Forbidden ? 1 : 0, events["role_refused"]);
    }

    [Theory]
    [InlineData(AicpRoles.Metrics, HttpStatusCode.Forbidden)]
    [InlineData(AicpRoles.Admin, HttpStatusCode.SwitchingProtocols)]
    public async Task Connect_ByRole_MetricsKeyMayNotOpenAHubConnection(string role, HttpStatusCode expected)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var status = await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.KeyOfRole[role]);

        Assert.Equal(expected, status.StatusCode);
    }

    internal static async Task<ResilientHubConnection> ConnectAsync(HubHarness h, string? key)
    {
        var connection = new ResilientHubConnection(
            new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), Protocol = h.Protocol, AccessToken = key },
            _ => { }, (_, _) => Task.CompletedTask, null);
        await connection.StartAsync(CancellationToken.None).DefaultTimeout();
        return connection;
    }
}
