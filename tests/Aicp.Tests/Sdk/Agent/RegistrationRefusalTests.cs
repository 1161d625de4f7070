using System.Diagnostics;
using System.Net;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Sdk.Agent;

/// <summary>
/// A refused registration or credential: refusals that trying again cannot change end <c>StartAsync</c> with a typed
/// exception after one attempt; others are retried on the capped backoff; an agent that was up retries every refusal.
/// </summary>
public sealed class RegistrationRefusalTests
{
    private static AgentOptions Options(string hubUrl, string agentId, string? token, int maxConcurrency = 4) => new()
    {
        HubUrl = hubUrl, AgentId = agentId, AccessToken = token, MaxConcurrency = maxConcurrency, LoadReportInterval = TimeSpan.Zero,
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(10), ReconnectMaxDelay = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task StartAsync_RegistrationForbidden_ThrowsTypedRefusalAfterOneAttempt()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        var agent = h.Own(new AicpAgent(Options(h.Hub.BaseUrl.ToString(), "cpu-9", TestCredentials.AgentKey)).Handle("image.label", HubHarness.Echo("cpu-9")));

        var refused = await Assert.ThrowsAsync<AicpRegistrationRefusedException>(() => agent.StartAsync()).DefaultTimeout();

        Assert.Equal((ErrorCodes.Forbidden, "cpu-9", false), (refused.ErrorCode, refused.AgentId, refused.IsTransient));
        Assert.Equal("The hub refused to register agent 'cpu-9': forbidden: This credential may not register agent id 'cpu-9'.", refused.Message);
        Assert.Equal(AicpConnectionState.Disconnected, agent.State);

        // Absence can only be watched over a window: 300 ms is 15 of this agent's reconnect delays.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, h.Counters.SecurityEvents()["binding_refused"]);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task StartAsync_ConcurrencyTheHubRefuses_ThrowsTypedRefusal()
    {
        await using var h = await HubHarness.StartAsync();
        var agent = h.Own(new AicpAgent(Options(h.Hub.BaseUrl.ToString(), "huge-1", null, maxConcurrency: 200_000)).Handle("image.label", HubHarness.Echo("huge-1")));

        var refused = await Assert.ThrowsAsync<AicpRegistrationRefusedException>(() => agent.StartAsync()).DefaultTimeout();

        Assert.Equal(ErrorCodes.InvalidConcurrency, refused.ErrorCode);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task StartAsync_KeyWithoutAConnectingRole_ThrowsRefusal403()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        var agent = h.Own(new AicpAgent(Options(h.Hub.BaseUrl.ToString(), "gpu-1", TestCredentials.MetricsKey)).Handle("image.label", HubHarness.Echo("gpu-1")));

        var refused = await Assert.ThrowsAsync<AicpConnectionRefusedException>(() => agent.StartAsync()).DefaultTimeout();

        Assert.Equal((HttpStatusCode.Forbidden, ErrorCodes.Forbidden, false), (refused.StatusCode, refused.ErrorCode, refused.IsTransient));
    }

    [Fact]
    public async Task StartAsync_TransientRefusal_RetriedOnTheBackoffThenRegisters()
    {
        await using var hub = await ScriptedHub.StartAsync(refusals: 2);
        var options = Options(hub.Url, "busy-1", null);
        options.ReconnectInitialDelay = TimeSpan.FromMilliseconds(100);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(400);
        await using var agent = new AicpAgent(options).Handle("image.label", HubHarness.Echo("busy-1"));
        var started = Stopwatch.StartNew();

        await agent.StartAsync().DefaultTimeout();

        Assert.Equal(3, hub.Registrations);
        Assert.Equal(AicpConnectionState.Connected, agent.State);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(150), $"two retries after {started.Elapsed.TotalMilliseconds:F0} ms (at least 50 + 100 ms)");
    }

    [Fact]
    public async Task Reconnect_RegistrationRefusedAfterBeingUp_RetriesOnTheBackoffUntilTheHubAcceptsAgain()
    {
        var settings = TestCredentials.Secured();
        await using var h = await HubHarness.StartAsync(settings);
        var agent = h.Own(new AicpAgent(Options(h.Hub.BaseUrl.ToString(), "gpu-1", TestCredentials.AgentKey)).Handle("image.label", HubHarness.Echo("gpu-1")));
        await agent.StartAsync().DefaultTimeout();

        var narrowed = new Dictionary<string, string?>(settings) { ["Aicp:Security:ApiKeys:0:AgentIds:0"] = "tpu-*" };
        await h.RestartHubAsync(narrowed);
        await TestTimeouts.Eventually(() => h.Counters.SecurityEvents()["binding_refused"] >= 3, "the refused agent to keep retrying");
        Assert.NotEqual(AicpConnectionState.Connected, agent.State);

        await h.RestartHubAsync(settings);
        await TestTimeouts.Eventually(() => h.Registry.GetById("gpu-1") is not null && agent.State == AicpConnectionState.Connected, "the agent back once the hub accepts it");
    }

    [Fact]
    public async Task Submit_NoCredentialForASecuredHub_ThrowsRefusal401InsteadOfWaiting()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString() });

        var refused = await Assert.ThrowsAsync<AicpConnectionRefusedException>(() => client.SubmitAsync("image.label", null)).DefaultTimeout();
        var again = await Assert.ThrowsAsync<AicpConnectionRefusedException>(() => client.SubmitAsync("image.label", null)).DefaultTimeout();

        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized), (refused.StatusCode, refused.ErrorCode));
        Assert.Same(refused, again);
        await Assert.ThrowsAsync<AicpConnectionRefusedException>(() => client.ConnectAsync()).DefaultTimeout();
    }

    /// <summary>A SignalR hub at /aicp that refuses the first registrations with a code the SDK does not know (<c>hub_busy</c>), then accepts.</summary>
    private sealed class ScriptedHub : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Counter _counter;

        private ScriptedHub(WebApplication app, Counter counter)
        {
            _app = app;
            _counter = counter;
            Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        }

        public string Url { get; }

        public int Registrations => Volatile.Read(ref _counter.Registrations);

        public static async Task<ScriptedHub> StartAsync(int refusals)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var counter = new Counter(refusals);
            builder.Services.AddSingleton(counter);
            builder.Services.AddSignalR();
            var app = builder.Build();
            app.UseWebSockets();
            app.MapHub<RefusingHub>(ProtocolDefaults.HubPath);
            await app.StartAsync().DefaultTimeout();
            return new ScriptedHub(app, counter);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }

        public sealed class Counter(int refusals)
        {
            public int Registrations;

            public int Refusals { get; } = refusals;
        }

        public sealed class RefusingHub(Counter counter) : Microsoft.AspNetCore.SignalR.Hub
        {
            public RegistrationAck Register(AgentRegistration registration) =>
                Interlocked.Increment(ref counter.Registrations) <= counter.Refusals
                    ? new RegistrationAck { Accepted = false, AgentId = registration.AgentId, Error = TaskError.Of("hub_busy", "Try again shortly.") }
                    : new RegistrationAck { Accepted = true, AgentId = registration.AgentId, Capabilities = registration.Capabilities, MaxConcurrency = registration.MaxConcurrency };
        }
    }
}
