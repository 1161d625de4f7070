using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Hosting;
using Aicp.Hub.Security;
using Aicp.Tests.Docs;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Hosting;

/// <summary>The hub program started with a bad configuration: one message with every problem, no stack trace, exit code 78.</summary>
public sealed class HubStartupTests
{
    [Fact]
    public async Task Program_ProblemsInEverySection_ExitsWithConfigurationCodeListingEachOnce()
    {
        var (exitCode, stdout, stderr) = await ProgramProcess.RunAsync(ProgramProcess.Hub,
        [
            "--urls", "http://127.0.0.1:0",
            "--Aicp:DefaultTimeoutMs=0", // hub options, out of range
            "--Aicp:DefaultMaxAttempts=three", // hub options, not a number
            "--Aicp:Health:BreakDuration=soon", // a duration that does not convert
            "--Aicp:CapacityWindowSeconds=0", // observability options
            "--Aicp:Security:MaxConnections=0", // security options
            "--Aicp:Security:MetricsAccess=everyone", // an enum that does not convert
        ]);

        Assert.Equal(AicpHubApplication.ConfigurationErrorExitCode, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("configuration is invalid (6 problems)", stderr);
        Assert.Contains("Aicp:DefaultTimeoutMs must be within 1..600000.", stderr);
        Assert.Contains("Aicp:DefaultMaxAttempts: 'three' is not a whole number", stderr);
        Assert.Contains("Aicp:Health:BreakDuration: 'soon' is not a duration", stderr);
        Assert.Contains("Aicp:CapacityWindowSeconds must be within 1..3600.", stderr);
        Assert.Contains("Aicp:Security:MaxConnections must be at least 1", stderr);
        Assert.Contains("Aicp:Security:MetricsAccess: 'everyone' is not one of Credential, Loopback, Open.", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Program_PublicAddressWithoutCredentials_ExitsWithConfigurationCodeNamingTheFix()
    {
        var (exitCode, _, stderr) = await ProgramProcess.RunAsync(ProgramProcess.Hub, ["--urls", "http://0.0.0.0:0"]);

        Assert.Equal(AicpHubApplication.ConfigurationErrorExitCode, exitCode);
        Assert.Contains("Aicp:Security:AllowAnonymous=true", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Program_ValueThatDoesNotConvertFromTheEnvironment_Reported()
    {
        var (exitCode, _, stderr) = await ProgramProcess.RunAsync(ProgramProcess.Hub, ["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Aicp__Otlp__MetricExportIntervalMs"] = "often" });

        Assert.Equal(AicpHubApplication.ConfigurationErrorExitCode, exitCode);
        Assert.Contains("Aicp:Otlp:MetricExportIntervalMs: 'often' is not a whole number", stderr);
    }

    [Fact]
    public async Task EmbeddedHub_ProblemsInEverySection_OneExceptionWithEveryProblem()
    {
        var error = await Assert.ThrowsAsync<AicpConfigurationException>(() => EmbeddedHub.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:DefaultStrategy"] = "fastest",
            ["Aicp:RouteLogCapacity"] = "0",
            ["Aicp:Security:Jwt:SigningKey"] = "short",
            ["Aicp:Security:RateLimit:TokenLimit"] = "lots",
        }).DefaultTimeout());

        Assert.Collection(error.Problems,
            p => Assert.Equal("Aicp:Security:RateLimit:TokenLimit: 'lots' is not a whole number (32-bit).", p),
            p => Assert.StartsWith("Aicp:DefaultStrategy 'fastest' is not a known strategy", p),
            p => Assert.Equal("Aicp:RouteLogCapacity must be within 1..100000.", p),
            p => Assert.Equal("Aicp:Security:Jwt:SigningKey must be at least 32 bytes (HS256).", p),
            p => Assert.Equal("Aicp:Security:Jwt:Issuer and Aicp:Security:Jwt:Audience are required with a signing key.", p));
    }

    /// <summary>
    /// docs/SECURITY.md's command for a hub that serves HTTPS, with the test's certificate and keys files in place of
    /// /etc/aicp and 127.0.0.1 with a free port in place of 0.0.0.0:5001 (tests listen on loopback only); what 0.0.0.0
    /// changes (credentials are required there) is checked on the documented address itself.
    /// </summary>
    [Fact]
    public async Task Program_DocumentedHttpsCommand_ServesTlsToAKeyHolder()
    {
        var block = Markdown.Read("docs/SECURITY.md").Blocks().Single(b => b.Text.StartsWith("dotnet Aicp.Hub.dll --urls https://", StringComparison.Ordinal));
        var documented = DocCommandsTests.BlockCommands(block.Text).Single().Split(' ');
        Assert.Equal(["dotnet", "Aicp.Hub.dll", "--urls", "https://0.0.0.0:5001"], documented[..4]);
        using var certificates = TestCertificates.Create();
        var keysFile = Path.Combine(Path.GetDirectoryName(certificates.AuthorityPemPath)!, "keys.json");
        TestCredentials.WriteKeysFile(keysFile, new TestCredentials.Key("frontend", TestCredentials.SubmitterKey, ["submitter"]));
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var args = documented[2..].Select(a => a
            .Replace("https://0.0.0.0:5001", $"https://127.0.0.1:{port}", StringComparison.Ordinal)
            .Replace("/etc/aicp/keys.json", keysFile, StringComparison.Ordinal)
            .Replace("/etc/aicp/tls/hub.crt", certificates.HubCertPemPath, StringComparison.Ordinal)
            .Replace("/etc/aicp/tls/hub.key", certificates.HubKeyPemPath, StringComparison.Ordinal));
        await using var hub = ProgramProcess.Start(ProgramProcess.Hub, args);
        await hub.WaitForOutputAsync($"Now listening on: https://127.0.0.1:{port}", TimeSpan.FromSeconds(60));
        await using var client = new AicpTaskClient(new AicpConnectionOptions
        {
            HubUrl = $"https://127.0.0.1:{port}", AccessToken = TestCredentials.SubmitterKey,
            RemoteCertificateValidationCallback = HubCertificates.TrustRoots(certificates.Authority),
        });

        await client.ConnectAsync().DefaultTimeout();
        hub.Signal(PosixSignal.SIGTERM);

        Assert.Equal(0, await hub.WaitForExitAsync());
        var withKeys = new AicpSecurityOptions { KeysFile = keysFile };
        Assert.Null(ListenAddressGuard.Refusal(["https://0.0.0.0:5001"], withKeys)); // the documented address, with the documented keys file
        Assert.NotNull(ListenAddressGuard.Refusal(["https://0.0.0.0:5001"], new AicpSecurityOptions())); // ... and without it
    }
}
