using Aicp.Agent.Sdk.Connection;
using System.Net;
using Aicp.Agent.Sdk.Client;
using Aicp.Hub.Hubs;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Key = Aicp.Tests.Infrastructure.TestCredentials.Key;

namespace Aicp.Tests.Integration.Security;

/// <summary>API keys change without a restart: from a watched keys file, and from a configuration reload.</summary>
public sealed class KeyRotationTests : IDisposable
{
    private static readonly Key FleetA = new("fleet-a", "fleet-a-secret-0001", ["agent"]);
    private static readonly Key FleetB = new("fleet-b", "fleet-b-secret-0002", ["agent"]);
    private static readonly Key FleetC = new("fleet-c", "fleet-c-secret-0003", ["agent"]);
    private static readonly Key Frontend = new("frontend", "frontend-secret-0004", ["submitter"]);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("aicp-keys-");

    private string KeysFile => Path.Combine(_dir.FullName, "keys.json");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task KeysFile_KeyRemoved_ItsConnectionsClosedTasksFailOverOthersUntouched()
    {
        TestCredentials.WriteKeysFile(KeysFile, FleetA, FleetB, Frontend);
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:KeysFile"] = KeysFile }, logs: logs);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("a-1", async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        }, accessToken: FleetA.Secret);
        var client = await h.StartClientAsync(Frontend.Secret);
        var submitted = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(60_000), MaxAttempts = 2 });
        await started.Task.DefaultTimeout();
        await h.StartAgentAsync("b-1", HubHarness.Echo("b-1"), accessToken: FleetB.Secret);
        var connectionB = h.Registry.GetById("b-1")!.ConnectionId;

        TestCredentials.WriteKeysFile(KeysFile, FleetB, FleetC, Frontend); // fleet-a revoked, fleet-c new, the others unchanged
        var result = await submitted.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal([("a-1", AttemptOutcomes.Disconnected), ("b-1", AttemptOutcomes.Completed)], result.Route.Select(r => (r.AgentId, r.Outcome)));
        await TestTimeouts.Eventually(() => h.Registry.GetById("a-1") is null, "the revoked key's agent to be gone", TimeSpan.FromSeconds(5));
        Assert.Equal(connectionB, h.Registry.GetById("b-1")!.ConnectionId); // an unchanged key keeps its connection
        Assert.Equal(AicpConnectionState.Connected, client.State);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, FleetA.Secret)).StatusCode);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, FleetC.Secret)).StatusCode);
        await TestTimeouts.Eventually(() => h.Counters.SecurityEvents()["key_revoked"] == 1, "the revocation to be counted");
        Assert.Contains(logs.Entries, e => e.EventId.Id == 4007 && e.Message.Contains("fleet-a", StringComparison.Ordinal));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task KeysFile_KeyRevoked_ClientToldWhyInTheCloseMessage()
    {
        TestCredentials.WriteKeysFile(KeysFile, FleetA, Frontend);
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:KeysFile"] = KeysFile });
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, FleetA.Secret);

        TestCredentials.WriteKeysFile(KeysFile, Frontend);
        var close = await socket.NextAsync(m => m.GetProperty("type").GetInt32() == 7);

        Assert.StartsWith(ErrorCodes.CredentialRevoked, close.GetProperty("error").GetString());
        Assert.True(close.GetProperty("allowReconnect").GetBoolean());
        Assert.Equal(AicpHubLifetimeManager.RevokedCloseError, close.GetProperty("error").GetString());
        await socket.Closed.DefaultTimeout();
    }

    [Fact]
    public async Task KeysFile_RoleChanged_ConnectionsClosedAndReopenWithTheNewRole()
    {
        TestCredentials.WriteKeysFile(KeysFile, Frontend with { Roles = ["agent"] });
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:KeysFile"] = KeysFile });
        var client = await h.StartClientAsync(Frontend.Secret);
        Assert.Equal(ErrorCodes.Forbidden, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Error?.Code);

        TestCredentials.WriteKeysFile(KeysFile, Frontend);

        // The old connection (agent only) is closed; the client reconnects and then holds the submitter role.
        await TestTimeouts.Eventually(() => h.Counters.SecurityEvents()["key_revoked"] == 1, "the changed key's connections to be closed");
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        string? status = null;
        while (status != TaskStatuses.NoAgents && DateTime.UtcNow < deadline)
        {
            try
            {
                status = (await client.SubmitAsync("image.label", null).WaitAsync(TimeSpan.FromSeconds(5))).Status;
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                await Task.Delay(20); // the old connection was closing under the call: try again on the new one
            }
        }

        Assert.Equal(TaskStatuses.NoAgents, status);
    }

    [Fact]
    public async Task KeysFile_LimitChanged_AppliesWithoutClosingConnections()
    {
        TestCredentials.WriteKeysFile(KeysFile, Frontend);
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:KeysFile"] = KeysFile });
        var client = await h.StartClientAsync(Frontend.Secret);
        Assert.Equal(TaskStatuses.NoAgents, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);

        TestCredentials.WriteKeysFile(KeysFile, Frontend with { RateLimit = (1, 1, 600_000) });
        await TestTimeouts.Eventually(() => h.Hub.Services.GetRequiredService<Aicp.Hub.Security.ApiKeyStore>().Keys.Single().Limits.RateLimit is not null,
            "the new limit to be read");
        var statuses = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        }

        Assert.Equal([TaskStatuses.NoAgents, TaskStatuses.RateLimited, TaskStatuses.RateLimited], statuses);
        Assert.Equal(0, h.Counters.SecurityEvents()["key_revoked"]);
    }

    [Fact]
    public async Task KeysFile_InvalidContent_RejectedAndTheKeysInUseStay()
    {
        TestCredentials.WriteKeysFile(KeysFile, FleetA);
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:Security:KeysFile"] = KeysFile }, logs: logs);
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, FleetA.Secret);

        File.WriteAllText(KeysFile, "{\"ApiKeys\":[{\"Name\":\"fleet-a\",\"Sha2"); // cut short, as by a half-finished write
        await TestTimeouts.Eventually(() => logs.Entries.Any(e => e.EventId.Id == 4011), "the bad file to be reported");
        TestCredentials.WriteKeysFile(KeysFile, FleetA with { Roles = ["no-such-role"] });
        await TestTimeouts.Eventually(() => logs.Entries.Count(e => e.EventId.Id == 4011) >= 2, "the invalid key to be reported");

        Assert.True(socket.IsOpen);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, FleetA.Secret)).StatusCode);
        Assert.Equal(0, h.Counters.SecurityEvents()["key_revoked"]);
    }

    [Fact]
    public async Task ConfigurationChange_KeyReplaced_OldKeyClosedAndRefusedNewKeyAccepted()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.WorkerKey);
        var configuration = Assert.IsAssignableFrom<IConfigurationBuilder>(h.Hub.Services.GetRequiredService<IConfiguration>());

        // A source added to the hub's live configuration gives the worker key (index 3) a new hash, as an edited
        // appsettings file would; the configuration raises its change notification.
        const string Rotated = "worker-secret-rotated";
        configuration.Add(new MemoryConfigurationSource
        {
            InitialData = [new("Aicp:Security:ApiKeys:3:Sha256", Aicp.Hub.Security.ApiKeyStore.Hash(Rotated))],
        });

        await socket.Closed.DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Counters.SecurityEvents()["key_revoked"] == 1, "the revocation to be counted");
        Assert.Equal(HttpStatusCode.Unauthorized, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.WorkerKey)).StatusCode);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, Rotated)).StatusCode);
        Assert.Equal(1, h.Counters.SecurityEvents()["key_revoked"]);
    }
}
