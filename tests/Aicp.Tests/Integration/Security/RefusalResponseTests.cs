using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.Security;

/// <summary>
/// What a refused request gets back: a <c>WWW-Authenticate: Bearer</c> challenge, the code in <c>Aicp-Error-Code</c>, and a
/// body that names the credential or role the route needs, never why a presented credential failed.
/// </summary>
public sealed class RefusalResponseTests
{
    private static async Task<(HttpStatusCode Status, string? Challenge, string? Code, JsonElement Error)> GetAsync(HubHarness h, string path, string? token)
    {
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using var response = await http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();
        return (response.StatusCode, response.Headers.WwwAuthenticate.ToString(),
            response.Headers.TryGetValues(ProtocolDefaults.ErrorCodeHeader, out var codes) ? codes.Single() : null, body.GetProperty("error"));
    }

    [Theory]
    [InlineData("/v1/agents", "the 'admin' role")]
    [InlineData("/v1/stats", "the 'admin' role")]
    [InlineData("/metrics", "the 'metrics' or 'admin' role")]
    [InlineData("/aicp", "the 'agent', 'submitter' or 'admin' role")]
    public async Task Get_NoCredential_401ChallengeNamingTheRoleAndHowToPresentIt(string path, string roles)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (status, challenge, code, error) = await GetAsync(h, path, token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer realm=\"aicp\"", challenge);
        Assert.Equal(ErrorCodes.Unauthorized, code);
        Assert.Equal(ErrorCodes.Unauthorized, error.GetProperty("code").GetString());
        Assert.Equal($"GET {path} needs an API key or JWT with {roles}, presented as 'Authorization: Bearer <key or JWT>' or the 'access_token' query parameter.",
            error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")] // a JWT-shaped token: validated as a JWT
    public async Task Get_CredentialNotAccepted_401InvalidTokenWithoutTheReason(string token)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (status, challenge, code, error) = await GetAsync(h, "/v1/stats", token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer realm=\"aicp\", error=\"invalid_token\", error_description=\"The credential presented was not accepted.\"", challenge);
        Assert.Equal(ErrorCodes.Unauthorized, code);
        Assert.StartsWith("The credential presented was not accepted", error.GetProperty("message").GetString());
        Assert.Contains("GET /v1/stats needs an API key or JWT with the 'admin' role.", error.GetProperty("message").GetString());
        Assert.DoesNotContain("IDX", error.GetProperty("message").GetString()); // no validator details
    }

    [Fact]
    public async Task Get_ExpiredKey_SameAnswerAsAnUnknownOne()
    {
        var settings = TestCredentials.Secured();
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("ended", "ended-secret-0009", ["admin"], ExpiresAt: DateTimeOffset.UtcNow.AddDays(-1)));
        await using var h = await HubHarness.StartAsync(settings);

        var (status, _, _, error) = await GetAsync(h, "/v1/stats", "ended-secret-0009");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.DoesNotContain("ended", error.GetProperty("message").GetString()); // neither the key's name nor that it expired
    }

    [Theory]
    [InlineData(TestCredentials.SubmitterKey, "/v1/routes", "GET /v1/routes needs the 'admin' role; the credential presented has 'submitter'.")]
    [InlineData(TestCredentials.AgentKey, "/metrics", "GET /metrics needs the 'metrics' or 'admin' role; the credential presented has 'agent'.")]
    [InlineData(TestCredentials.MetricsKey, "/aicp", "GET /aicp needs the 'agent', 'submitter' or 'admin' role; the credential presented has 'metrics'.")]
    public async Task Get_CredentialWithoutTheRole_403InsufficientScopeNamingBoth(string key, string path, string message)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (status, challenge, code, error) = await GetAsync(h, path, key);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.StartsWith("Bearer realm=\"aicp\", error=\"insufficient_scope\"", challenge);
        Assert.Equal(ErrorCodes.Forbidden, code);
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Get_JwtWithoutTheRole_403AsForAKey()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (status, _, code, error) = await GetAsync(h, "/v1/agents", TestCredentials.Jwt("submitter"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(ErrorCodes.Forbidden, code);
        Assert.Equal("GET /v1/agents needs the 'admin' role; the credential presented has 'submitter'.", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized)]
    [InlineData(TestCredentials.MetricsKey, HttpStatusCode.Forbidden, ErrorCodes.Forbidden)]
    public async Task WebSocketUpgrade_Refused_StatusAndCodeAtTheUpgrade(string? key, HttpStatusCode expected, string code)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        Assert.Equal((expected, code), await RawUpgrade.StatusAsync(h.Hub.BaseUrl, key));
    }
}
