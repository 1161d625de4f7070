using Aicp.Agent.Sdk.Connection;
using System.Net;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.Security;

/// <summary>A connection ends when its credential does: JWT expiry and API key expiry, over real sockets.</summary>
public sealed class CredentialLifetimeTests
{
    /// <summary>Clock skew 0, so a token is refused (and its connection closed) right at its exp.</summary>
    private static Dictionary<string, string?> NoSkew(Dictionary<string, string?>? extra = null)
    {
        var settings = TestCredentials.Secured(extra);
        settings["Aicp:Security:Jwt:ClockSkewSeconds"] = "0";
        return settings;
    }

    [Fact]
    public async Task Connection_JwtExpires_ClosedAtExpiryAndAgentReturnsWithAFreshToken()
    {
        await using var h = await HubHarness.StartAsync(NoSkew());
        var issued = new List<DateTime>();
        var removedAt = new List<DateTimeOffset>();
        h.Registry.AgentRemoved += _ => { lock (removedAt) { removedAt.Add(DateTimeOffset.UtcNow); } };

        // Every connect asks for a token valid for 3 more seconds.
        await h.StartAgentAsync("jwt-agent", HubHarness.Echo("jwt-agent"), configure: o => o.AccessTokenProvider = _ =>
        {
            var expires = DateTime.UtcNow.AddSeconds(3);
            lock (issued) { issued.Add(expires); }
            return ValueTask.FromResult<string?>(TestCredentials.Jwt(expires, "jwt-agent", "agent"));
        });
        var first = h.Registry.GetById("jwt-agent")!.ConnectionId;
        bool RemovedOnce()
        {
            lock (removedAt)
            {
                return removedAt.Count > 0;
            }
        }

        await TestTimeouts.Eventually(() => h.Registry.GetById("jwt-agent") is { } agent && agent.ConnectionId != first && RemovedOnce(),
            "the agent back on a new connection after its token expired");

        DateTime firstExpiry;
        lock (issued) { firstExpiry = issued[0]; }
        var tokenExp = DateTimeOffset.FromUnixTimeSeconds(new DateTimeOffset(firstExpiry).ToUnixTimeSeconds()); // exp has whole seconds
        lock (removedAt) { Assert.True(removedAt[0] >= tokenExp, $"closed at {removedAt[0]:O}, before the token's exp {tokenExp:O}"); }
        Assert.True(h.Counters.SecurityEvents()["credential_expired"] >= 1);
    }

    [Fact]
    public async Task InFlightTask_AgentTokenExpires_FailsOverToAnotherAgent()
    {
        await using var h = await HubHarness.StartAsync(NoSkew());
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("gpu-expiring", async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct); // holds the task until the hub cancels it or the connection goes
            return default;
        }, accessToken: TestCredentials.Jwt(DateTime.UtcNow.AddSeconds(3), "expiring", "agent"));
        var client = await h.StartClientAsync(TestCredentials.SubmitterKey);

        var submitted = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(60_000), MaxAttempts = 2 });
        await started.Task.DefaultTimeout();
        await h.StartAgentAsync("gpu-steady", HubHarness.Echo("gpu-steady"), accessToken: TestCredentials.AgentKey);
        var result = await submitted.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("gpu-steady", result.AgentId);
        Assert.Equal([("gpu-expiring", AttemptOutcomes.Disconnected), ("gpu-steady", AttemptOutcomes.Completed)],
            result.Route.Select(r => (r.AgentId, r.Outcome)));
        Assert.Equal(AicpConnectionState.Connected, client.State); // the submitter's own key has no expiry
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Connection_ApiKeyExpires_ClosedThenRefused()
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3); // keys expire on whole seconds
        var settings = TestCredentials.Secured();
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("short-lived", "short-lived-secret-9", ["agent"], ExpiresAt: expires));
        await using var h = await HubHarness.StartAsync(settings);
        await using var socket = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, "short-lived-secret-9");
        await socket.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = "short-1", Capabilities = ["image.label"] });
        Assert.True((await socket.CompletionAsync("1")).GetProperty("result").GetProperty("accepted").GetBoolean());

        await socket.Closed.DefaultTimeout();

        Assert.True(DateTimeOffset.UtcNow >= expires);
        await TestTimeouts.Eventually(() => h.Registry.GetById("short-1") is null, "the agent to leave the registry");
        Assert.Equal(HttpStatusCode.Unauthorized, (await RawUpgrade.StatusAsync(h.Hub.BaseUrl, "short-lived-secret-9")).StatusCode);
        await TestTimeouts.Eventually(() => h.Counters.SecurityEvents()["credential_expired"] == 1, "the expiry to be counted");
    }
}
