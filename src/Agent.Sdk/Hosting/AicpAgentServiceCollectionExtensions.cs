using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aicp.Agent.Sdk.Hosting;

/// <summary>Generic Host integration: agents and a task client as services, configured through options.</summary>
public static class AicpAgentServiceCollectionExtensions
{
    /// <summary>
    /// Adds an agent with id <paramref name="agentId"/> that starts with the host (in the background: the host does not
    /// wait for the hub) and drains when the host stops. Its <see cref="AgentOptions"/> (named <paramref name="agentId"/>)
    /// bind from <paramref name="configuration"/> when given, then <paramref name="configure"/> runs; they are validated
    /// when the host starts, every problem reported together. Several agents with different ids may share a host; each
    /// is resolvable as a keyed <see cref="AicpAgent"/> service under its id.
    /// </summary>
    public static IAicpAgentBuilder AddAicpAgent(this IServiceCollection services, string agentId, IConfiguration? configuration = null,
        Action<AgentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        if (services.Any(d => d.IsKeyedService && Equals(d.ServiceKey, agentId) && d.ServiceType == typeof(AicpAgent)))
        {
            throw new InvalidOperationException($"An agent with id '{agentId}' is already added.");
        }

        var options = services.AddOptions<AgentOptions>(agentId);
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure(o => o.AgentId = agentId);
        options.ValidateOnStart(); // AgentOptionsValidator reports every problem
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());

        var builder = new AicpAgentBuilder(agentId, services);
        services.AddKeyedSingleton(agentId, (sp, _) =>
        {
            var agent = new AicpAgent(sp.GetRequiredService<IOptionsMonitor<AgentOptions>>().Get(agentId), sp.GetService<ILoggerFactory>());
            foreach (var add in builder.Registrations)
            {
                add(sp, agent);
            }

            return agent;
        });
        services.AddSingleton<IHostedService>(sp => new AicpAgentHostedService(sp.GetRequiredKeyedService<AicpAgent>(agentId),
            sp.GetService<ILoggerFactory>()?.CreateLogger<AicpAgentHostedService>() ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        return builder;
    }

    /// <summary>
    /// Adds an <see cref="AicpTaskClient"/> singleton that connects when the host starts (in the background) and closes
    /// when it stops. Options bind from <paramref name="configuration"/> when given, then <paramref name="configure"/> runs.
    /// </summary>
    public static IServiceCollection AddAicpTaskClient(this IServiceCollection services, IConfiguration? configuration = null,
        Action<AicpConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AicpConnectionOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.ValidateConnection().Count == 0, "Task client options are invalid").ValidateOnStart();
        services.TryAddSingleton(sp => new AicpTaskClient(sp.GetRequiredService<IOptions<AicpConnectionOptions>>().Value, sp.GetService<ILoggerFactory>()));
        services.AddSingleton<IHostedService, AicpTaskClientHostedService>();
        return services;
    }

    /// <summary>
    /// A health check on the agent <paramref name="agentId"/>: healthy while connected and registered, degraded while
    /// connecting or reconnecting, unhealthy when stopped.
    /// </summary>
    public static IHealthChecksBuilder AddAicpAgentCheck(this IHealthChecksBuilder builder, string agentId, string? name = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name ?? $"aicp-agent-{agentId}",
            sp => new AicpAgentHealthCheck(sp.GetRequiredKeyedService<AicpAgent>(agentId)), failureStatus: null, tags));
    }
}

/// <summary>Reports every problem of an agent's options in one failure (the ids are the options' names).</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options) =>
        options.Validate() is { Count: > 0 } problems
            ? ValidateOptionsResult.Fail(problems.Select(p => $"Agent '{name}': {p}"))
            : ValidateOptionsResult.Success;
}

/// <summary>
/// Starts the agent in the background (the host does not wait for the hub) and drains it on stop. A refusal that trying
/// again cannot change (a credential or a registration the hub refuses for good) stops this agent with an error in the
/// log; the host and its other services keep running, and the agent's health check reports it stopped.
/// </summary>
internal sealed partial class AicpAgentHostedService(AicpAgent agent, ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await agent.StartAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AicpRegistrationRefusedException or AicpConnectionRefusedException)
        {
            LogAgentStopped(logger, agent.AgentId, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5110, Level = LogLevel.Error, Message = "Agent {AgentId} stopped: {Reason} The host keeps running; fix the agent's settings or credential and restart it.")]
    private static partial void LogAgentStopped(ILogger logger, string agentId, string reason);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await agent.StopAsync(cancellationToken);
    }
}

/// <summary>Connects the task client in the background when the host starts; the container closes it when the host is disposed.</summary>
internal sealed class AicpTaskClientHostedService(AicpTaskClient client) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => client.ConnectAsync(stoppingToken);
}

/// <summary>The agent's connection as a health check.</summary>
internal sealed class AicpAgentHealthCheck(AicpAgent agent) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["agentId"] = agent.AgentId, ["state"] = agent.State.ToString(), ["running"] = agent.RunningCount };
        return Task.FromResult(agent.State switch
        {
            AicpConnectionState.Connected => HealthCheckResult.Healthy("Connected and registered.", data),
            AicpConnectionState.Connecting or AicpConnectionState.Reconnecting => HealthCheckResult.Degraded($"{agent.State}.", data: data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, "Stopped.", data: data),
        });
    }
}
