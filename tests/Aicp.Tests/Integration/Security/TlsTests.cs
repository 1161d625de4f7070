using System.Security.Authentication;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.SampleAgents.Cli;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.Security;

/// <summary>
/// The hub serving HTTPS/WSS from Kestrel's certificate settings, with a CA and certificate the test makes itself; agents,
/// submitters and the command line connect over real TLS on loopback and trust the CA through the SDK's certificate check.
/// </summary>
public sealed class TlsTests
{
    [Theory]
    [InlineData(HubProtocol.Json, false)]
    [InlineData(HubProtocol.MessagePack, true)]
    public async Task Submit_OverTls_AgentAndSubmitterRoundTrip(HubProtocol protocol, bool pfx)
    {
        using var certificates = TestCertificates.Create();
        var settings = TestCredentials.Secured(certificates.KestrelSettings(pfx));
        await using var h = await HubHarness.StartAsync(settings, url: "https://127.0.0.1:0", protocol: protocol);
        Assert.Equal("https", h.Hub.BaseUrl.Scheme);
        var trust = HubCertificates.TrustRoots(certificates.Authority);

        await h.StartAgentAsync("gpu-tls", HubHarness.Echo("gpu-tls"), accessToken: TestCredentials.AgentKey,
            configure: o => o.RemoteCertificateValidationCallback = trust);
        var client = await h.StartClientAsync(TestCredentials.SubmitterKey, o => o.RemoteCertificateValidationCallback = trust);
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.SubmitAsync("image.label", new { i, blob = new byte[4096] }))).DefaultTimeout();

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.All(results, r => Assert.Equal("gpu-tls", r.AgentId));
        Assert.Equal(10, h.Counters.Finished(TaskStatuses.Completed));
    }

    [Fact]
    public async Task Connect_OverTlsWithoutTrustingTheCa_RefusedByTheClient()
    {
        using var certificates = TestCertificates.Create();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(certificates.KestrelSettings(pfx: false)), url: "https://127.0.0.1:0");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync(h, trust: null)).DefaultTimeout();

        Assert.NotNull(Innermost(error, e => e is AuthenticationException));
        Assert.Equal(0, h.Counters.SecurityEvents()["authentication_failed"]); // the client stopped at TLS, before any credential was sent
    }

    [Fact]
    public async Task Connect_OverTlsTrustingAnotherCa_RefusedByTheClient()
    {
        using var certificates = TestCertificates.Create();
        using var stranger = TestCertificates.Create();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(certificates.KestrelSettings(pfx: false)), url: "https://127.0.0.1:0");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync(h, HubCertificates.TrustRoots(stranger.Authority))).DefaultTimeout();

        Assert.NotNull(Innermost(error, e => e is AuthenticationException));
    }

    [Fact]
    public async Task Connect_OverTlsTrustingTheCa_Opens()
    {
        using var certificates = TestCertificates.Create();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(certificates.KestrelSettings(pfx: false)), url: "https://127.0.0.1:0");

        var connection = await OpenAsync(h, HubCertificates.TrustRoots(certificates.Authority)).DefaultTimeout();

        await connection.DisposeAsync();
    }

    private static async Task<Microsoft.AspNetCore.Connections.ConnectionContext> OpenAsync(HubHarness h, System.Net.Security.RemoteCertificateValidationCallback? trust)
    {
        var options = new AicpConnectionOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AccessToken = TestCredentials.SubmitterKey, RemoteCertificateValidationCallback = trust,
        };
        var factory = new WebSocketConnectionFactory(Microsoft.AspNetCore.Connections.TransferFormat.Text, options);
        return await factory.ConnectAsync(new Microsoft.AspNetCore.Connections.UriEndPoint(options.ResolveEndpoints()[0]));
    }

    [Fact]
    public async Task SubmitCommand_HttpsHubWithCaCert_CompletesTasks()
    {
        using var certificates = TestCertificates.Create();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(certificates.KestrelSettings(pfx: false)), url: "https://127.0.0.1:0");
        await h.StartAgentAsync("gpu-cli", HubHarness.Echo("gpu-cli"), accessToken: TestCredentials.AgentKey,
            configure: o => o.RemoteCertificateValidationCallback = HubCertificates.TrustRoots(certificates.Authority));

        var exitCode = await SampleAgentsCli.InvokeAsync(
            ["submit", "--hub", h.Hub.BaseUrl.ToString(), "--count", "6", "--concurrency", "2", "--json",
             "--token", TestCredentials.SubmitterKey, "--ca-cert", certificates.AuthorityPemPath], TextWriter.Null, TextWriter.Null).DefaultTimeout();

        Assert.Equal(0, exitCode);
        Assert.Equal(6, h.Counters.Finished(TaskStatuses.Completed));
    }

    private static Exception? Innermost(Exception error, Func<Exception, bool> match)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (match(e))
            {
                return e;
            }
        }

        return null;
    }
}
