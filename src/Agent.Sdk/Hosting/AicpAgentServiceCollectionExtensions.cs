using Aicp.Agent.Sdk.Agent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aicp.Agent.Sdk.Hosting;

/// <summary>Generic Host integration: an agent as a hosted service configured through IOptions.</summary>
public static class AicpAgentServiceCollectionExtensions
{
    /// <summary>
    /// Adds an agent that starts with the host and drains when the host stops. Options bind from the
    /// <c>AicpAgent</c> section when <paramref name="configuration"/> is given, then <paramref name="configure"/> runs.
    /// </summary>
    public static IServiceCollection AddAicpAgent(this IServiceCollection services, Action<AicpAgent> addHandlers,
        Action<AgentOptions>? configure = null, IConfiguration? configuration = null)
    {
        var options = services.AddOptions<AgentOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(AgentOptions.SectionName));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton(sp =>
        {
            var agent = new AicpAgent(sp.GetRequiredService<IOptions<AgentOptions>>().Value, sp.GetService<ILoggerFactory>());
            addHandlers(agent);
            return agent;
        });
        services.AddHostedService<AicpAgentHostedService>();
        return services;
    }
}

/// <summary>Starts the agent in the background (the host does not wait for the hub) and drains it on stop.</summary>
internal sealed class AicpAgentHostedService(AicpAgent agent) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => agent.StartAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await agent.StopAsync(cancellationToken);
    }
}
