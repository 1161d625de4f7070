using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Hosting;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Sdk.Hosting;

/// <summary>Agents and a task client in a Generic Host, against a real hub.</summary>
public sealed class AicpAgentHostingTests
{
    public sealed record Work(int N);

    public sealed record Done(int N, string Scope);

    /// <summary>A scoped service: one per task when handlers are resolved per task.</summary>
    public sealed class TaskScope
    {
        public string Id { get; } = Guid.NewGuid().ToString("N");
    }

    public sealed class WorkHandler(TaskScope scope) : IAgentHandler<Work, Done>
    {
        public ValueTask<Done> HandleAsync(Work request, AgentTaskContext task, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new Done(request.N, scope.Id));
    }

    private static IHost BuildHost(string hubUrl, Action<IServiceCollection> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddScoped<TaskScope>();
        configure(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task AddAicpAgent_TwoAgentsWithHandlersFromDi_EachTaskInItsOwnScope_BothServe()
    {
        await using var h = await HubHarness.StartAsync();
        var hubUrl = h.Hub.BaseUrl.ToString();
        using var host = BuildHost(hubUrl, services =>
        {
            services.AddAicpAgent("worker-1", configure: o => o.HubUrl = hubUrl).AddHandler<Work, Done, WorkHandler>("work.do");
            services.AddAicpAgent("worker-2", configure: o => o.HubUrl = hubUrl).AddHandler<Work, Done, WorkHandler>("work.do");
            services.AddAicpTaskClient(configure: o => o.HubUrl = hubUrl);
            services.AddHealthChecks().AddAicpAgentCheck("worker-1");
        });

        await host.StartAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Registry.Count == 2, "both hosted agents registered");
        var client = host.Services.GetRequiredService<AicpTaskClient>();
        var done = new List<Done>();
        for (var n = 0; n < 10; n++)
        {
            done.Add(await client.SubmitAsync<Work, Done>("work.do", new Work(n), new SubmitOptions { Strategy = RoutingStrategy.RoundRobin }).DefaultTimeout());
        }

        Assert.Equal(Enumerable.Range(0, 10), done.Select(d => d.N));
        Assert.Equal(10, done.Select(d => d.Scope).Distinct().Count());
        Assert.Equal([5L, 5L], new[] { "worker-1", "worker-2" }.Select(id => host.Services.GetRequiredKeyedService<AicpAgent>(id).CompletedCount));
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().DefaultTimeout();
        Assert.Equal(HealthStatus.Healthy, health.Status);

        await host.StopAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "the agents gone when the host stopped");
        Assert.Equal(AicpConnectionState.Disconnected, host.Services.GetRequiredKeyedService<AicpAgent>("worker-1").State);
    }

    [Fact]
    public async Task AddAicpAgent_InvalidOptions_HostStartFailsWithEveryProblem()
    {
        using var host = BuildHost("http://127.0.0.1:1", services =>
            services.AddAicpAgent("bad-options", configure: o =>
            {
                o.HubUrl = "ftp://nowhere";
                o.MaxConcurrency = 0;
            }).AddHandler<Work, Done, WorkHandler>("work.do"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().DefaultTimeout());

        Assert.Contains(error.Failures, f => f.Contains("MaxConcurrency"));
        Assert.Contains(error.Failures, f => f.Contains("ftp://nowhere"));
    }

    [Fact]
    public void AddAicpAgent_SameIdTwice_Refused()
    {
        var services = new ServiceCollection();
        services.AddAicpAgent("twin");

        Assert.Throws<InvalidOperationException>(() => services.AddAicpAgent("twin"));
    }

    [Fact]
    public async Task AgentHealthCheck_HubGone_DegradedWhileReconnecting()
    {
        await using var h = await HubHarness.StartAsync();
        var hubUrl = h.Hub.BaseUrl.ToString();
        using var host = BuildHost(hubUrl, services =>
        {
            services.AddAicpAgent("watched", configure: o =>
            {
                o.HubUrl = hubUrl;
                o.ReconnectInitialDelay = TimeSpan.FromMilliseconds(50);
                o.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
            }).AddHandler<Work, Done, WorkHandler>("work.do");
            services.AddHealthChecks().AddAicpAgentCheck("watched");
        });
        await host.StartAsync().DefaultTimeout();
        var checks = host.Services.GetRequiredService<HealthCheckService>();
        await TestTimeouts.Eventually(() => checks.CheckHealthAsync().Result.Status == HealthStatus.Healthy, "healthy once registered");

        await h.Hub.DisposeAsync();

        await TestTimeouts.Eventually(() => checks.CheckHealthAsync().Result.Status == HealthStatus.Degraded, "degraded while the hub is gone");
        await host.StopAsync().DefaultTimeout();
        Assert.Equal(HealthStatus.Unhealthy, (await checks.CheckHealthAsync().DefaultTimeout()).Status);
    }

    [Fact]
    public async Task AddAicpAgent_RegistrationRefusedForGood_AgentStopsWithAnErrorAndTheHostKeepsRunning()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        var hubUrl = h.Hub.BaseUrl.ToString();
        var logs = new CapturingLoggerProvider(LogLevel.Error);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddScoped<TaskScope>();
        builder.Services.AddAicpAgent("cpu-9", configure: o =>
        {
            o.HubUrl = hubUrl;
            o.AccessToken = TestCredentials.AgentKey; // may register gpu-* only
        }).AddHandler<Work, Done, WorkHandler>("work.do");
        builder.Services.AddAicpAgent("gpu-7", configure: o =>
        {
            o.HubUrl = hubUrl;
            o.AccessToken = TestCredentials.AgentKey;
        }).AddHandler<Work, Done, WorkHandler>("image.label");
        builder.Services.AddHealthChecks().AddAicpAgentCheck("cpu-9");
        using var host = builder.Build();

        await host.StartAsync().DefaultTimeout();

        await TestTimeouts.Eventually(() => logs.Entries.Any(e => e.EventId.Id == 5110), "the refused agent's error in the log");
        var error = logs.Entries.Single(e => e.EventId.Id == 5110);
        Assert.Equal("Agent cpu-9 stopped: The hub refused to register agent 'cpu-9': forbidden: This credential may not register agent id 'cpu-9'. " +
                     "The host keeps running; fix the agent's settings or credential and restart it.", error.Message);
        await TestTimeouts.Eventually(() => h.Registry.GetById("gpu-7") is not null, "the other agent registered");
        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().DefaultTimeout();
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        await host.StopAsync().DefaultTimeout();
    }
}
