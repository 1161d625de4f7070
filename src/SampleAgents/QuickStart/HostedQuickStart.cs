using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.QuickStart;

/// <summary>The README's <c>math.sum</c> handler as a class the Generic Host resolves per task.</summary>
public sealed class SumHandler : IAgentHandler<Sum, Total>
{
    public ValueTask<Total> HandleAsync(Sum request, AgentTaskContext task, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Total(request.Numbers.Sum()));
}

/// <summary>
/// The code of README.md's Generic Host example, compiled here and run by a test against a real hub; the README shows the
/// lines between the <c>README</c> markers, and a test checks that they are the same.
/// </summary>
public static class HostedQuickStart
{
    /// <summary>
    /// Runs a host with the agent and a task client, waits until the agent's health check says it is registered, submits
    /// one task through the injected client and stops the host.
    /// </summary>
    /// <param name="settings">The host's configuration, e.g. <c>Agents:adder-2:HubUrl</c> and <c>AicpClient:HubUrl</c>.</param>
    public static async Task<Total> RunAsync(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();

        // README begin
        builder.Services.AddAicpAgent("adder-2", builder.Configuration.GetSection("Agents:adder-2"))
            .AddHandler<Sum, Total, SumHandler>("math.sum"); // SumHandler : IAgentHandler<Sum, Total>, one DI scope per task
        builder.Services.AddAicpTaskClient(builder.Configuration.GetSection("AicpClient"));
        builder.Services.AddHealthChecks().AddAicpAgentCheck("adder-2"); // healthy once connected and registered
        using var host = builder.Build();
        await host.StartAsync(); // agents connect in the background; options are validated here
        var client = host.Services.GetRequiredService<AicpTaskClient>(); // or inject it
        // README end

        // A task submitted before any agent serves math.sum would end no_agents: wait for the agent's health check.
        var health = host.Services.GetRequiredService<HealthCheckService>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await health.CheckHealthAsync(deadline.Token)).Status != HealthStatus.Healthy)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
        }

        var total = await client.SubmitAsync<Sum, Total>("math.sum", new Sum([4, 5, 6]));
        await host.StopAsync(); // agents drain
        return total;
    }
}
