using System.Net;
using System.Net.WebSockets;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Integration.Security;

/// <summary>Connection caps per key and for the whole hub, refused at the WebSocket upgrade with a typed error.</summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task Connect_KeyAtItsCap_Refused429ConnectionLimitOthersUnaffected()
    {
        var settings = TestCredentials.Secured();
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("capped", "capped-secret-0009", ["submitter"], MaxConnections: 2));
        await using var h = await HubHarness.StartAsync(settings);
        var limiter = h.Hub.Services.GetRequiredService<ConnectionLimiter>();
        await using var first = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, "capped-secret-0009");
        await using var second = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, "capped-secret-0009");

        var (status, code) = await RawUpgrade.StatusAsync(h.Hub.BaseUrl, "capped-secret-0009");

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(ErrorCodes.ConnectionLimit, code);
        Assert.Equal(2, limiter.OpenFor("key:capped"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.SubmitterKey)).StatusCode);
        Assert.Equal(1, h.Counters.SecurityEvents()["connection_refused"]);
        Assert.True(first.IsOpen && second.IsOpen);

        // A closed connection frees its place.
        first.Abort();
        await TestTimeouts.Eventually(() => limiter.OpenFor("key:capped") == 1, "the closed connection to be released");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, "capped-secret-0009")).StatusCode);
    }

    [Fact]
    public async Task Connect_HubAtGlobalCap_Refused503ConnectionLimit()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:Security:MaxConnections"] = "2" }));
        await using var first = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.AgentKey);
        await using var second = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.SubmitterKey);

        var (status, code) = await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.AdminKey);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(ErrorCodes.ConnectionLimit, code);
        Assert.Equal(2, h.Hub.Services.GetRequiredService<ConnectionLimiter>().Total);
    }

    [Fact]
    public async Task Connect_DefaultPerCredentialCap_AppliesToJwtSubjects()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(new() { ["Aicp:Security:MaxConnectionsPerCredential"] = "1" }));
        var token = TestCredentials.Jwt("submitter");
        await using var first = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, token);

        Assert.Equal(HttpStatusCode.TooManyRequests, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, token)).StatusCode);
        Assert.Equal(HttpStatusCode.SwitchingProtocols,
            (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.Jwt(DateTime.UtcNow.AddMinutes(5), "another-user", "submitter"))).StatusCode);
    }

    [Fact]
    public async Task Connect_Refused_SdkThrowsTypedRefusal()
    {
        var settings = TestCredentials.Secured();
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("single", "single-secret-0009", ["submitter"], MaxConnections: 1));
        await using var h = await HubHarness.StartAsync(settings);
        await h.StartClientAsync("single-secret-0009");
        var options = new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), AccessToken = "single-secret-0009" };
        var factory = new WebSocketConnectionFactory(TransferFormat.Text, options);

        var refused = await Assert.ThrowsAsync<AicpConnectionRefusedException>(
            () => factory.ConnectAsync(new UriEndPoint(options.ResolveEndpoints()[0])).AsTask()).DefaultTimeout();

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(ErrorCodes.ConnectionLimit, refused.ErrorCode);
        Assert.True(refused.IsTransient); // a cap may free up: retried with the reconnect delays
        Assert.IsType<WebSocketException>(refused.InnerException);
    }

    [Fact]
    public async Task Connect_UnknownKey_SdkThrowsTypedRefusal401()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        var options = new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), AccessToken = "not-a-key" };
        var factory = new WebSocketConnectionFactory(TransferFormat.Text, options);

        var refused = await Assert.ThrowsAsync<AicpConnectionRefusedException>(
            () => factory.ConnectAsync(new UriEndPoint(options.ResolveEndpoints()[0])).AsTask()).DefaultTimeout();

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(ErrorCodes.Unauthorized, refused.ErrorCode);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task Negotiate_OtherTransportsThanWebSockets_NotOffered()
    {
        await using var h = await HubHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        using var response = await http.PostAsync("/aicp/negotiate?negotiateVersion=1", null).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"WebSockets\"", body);
        Assert.DoesNotContain("LongPolling", body);
        Assert.DoesNotContain("ServerSentEvents", body);
    }
}
