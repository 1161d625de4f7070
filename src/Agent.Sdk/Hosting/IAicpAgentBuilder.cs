using Aicp.Agent.Sdk.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Aicp.Agent.Sdk.Hosting;

/// <summary>Adds handlers to an agent registered with <c>services.AddAicpAgent(agentId, ...)</c>.</summary>
public interface IAicpAgentBuilder
{
    /// <summary>The agent's id (also its keyed-service key and its options' name).</summary>
    string AgentId { get; }

    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// Serves <paramref name="method"/> with <typeparamref name="THandler"/>, resolved from a new dependency-injection
    /// scope for every task (registered as scoped unless registered already).
    /// </summary>
    IAicpAgentBuilder AddHandler<TRequest, TResponse, THandler>(string method) where THandler : class, IAgentHandler<TRequest, TResponse>;

    /// <summary>Configures the agent when it is created, e.g. to add a batch handler: <c>(sp, agent) =&gt; agent.HandleBatch(...)</c>.</summary>
    IAicpAgentBuilder Configure(Action<IServiceProvider, AicpAgent> configure);
}

internal sealed class AicpAgentBuilder(string agentId, IServiceCollection services) : IAicpAgentBuilder
{
    public string AgentId { get; } = agentId;

    public IServiceCollection Services { get; } = services;

    internal List<Action<IServiceProvider, AicpAgent>> Registrations { get; } = [];

    public IAicpAgentBuilder AddHandler<TRequest, TResponse, THandler>(string method) where THandler : class, IAgentHandler<TRequest, TResponse>
    {
        Services.TryAddScoped<THandler>();
        return Configure((sp, agent) => agent.Handle<TRequest, TResponse>(method, async (request, task, ct) =>
        {
            await using var scope = sp.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(request, task, ct).ConfigureAwait(false);
        }));
    }

    public IAicpAgentBuilder Configure(Action<IServiceProvider, AicpAgent> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Registrations.Add(configure);
        return this;
    }
}
