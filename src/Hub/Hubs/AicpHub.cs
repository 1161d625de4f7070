using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The SignalR endpoint at <c>/aicp</c>. Thin: validates what arrives and hands it to the registry or the
/// dispatcher. Agents call Register, Complete and Drain; submitters call Submit.
/// </summary>
internal sealed partial class AicpHub : Microsoft.AspNetCore.SignalR.Hub
{
    private readonly AgentRegistry _registry;
    private readonly TaskDispatcher _dispatcher;
    private readonly ILogger<AicpHub> _logger;

    public AicpHub(AgentRegistry registry, TaskDispatcher dispatcher, ILogger<AicpHub> logger)
    {
        _registry = registry;
        _dispatcher = dispatcher;
        _logger = logger;
    }

    /// <summary>Registers this connection as an agent, or updates its registration.</summary>
    public RegistrationAck Register(AgentRegistration registration)
    {
        var error = RegistrationValidator.Validate(registration, out var capabilities);
        if (error is not null)
        {
            Log.RegistrationRefused(_logger, Context.ConnectionId, error.Code, error.Message);
            return new RegistrationAck { Accepted = false, AgentId = registration?.AgentId ?? "", Error = error };
        }

        var metadata = registration.Metadata ?? new Dictionary<string, string>();
        var (agent, replaced) = _registry.Register(Context.ConnectionId, registration.AgentId, capabilities, registration.MaxConcurrency, metadata);
        if (replaced is not null)
        {
            Log.AgentReplaced(_logger, replaced.AgentId, replaced.ConnectionId, Context.ConnectionId);
        }

        Log.AgentRegistered(_logger, agent.AgentId, Context.ConnectionId, string.Join(",", capabilities), agent.MaxConcurrency);
        return new RegistrationAck
        {
            Accepted = true, AgentId = agent.AgentId, Capabilities = capabilities, MaxConcurrency = agent.MaxConcurrency,
            Replaced = replaced is not null && replaced.AgentId == agent.AgentId,
        };
    }

    /// <summary>Reports the end of an assignment this connection received.</summary>
    public void Complete(TaskCompletion completion)
    {
        if (completion is not null)
        {
            _dispatcher.Complete(Context.ConnectionId, completion);
        }
    }

    /// <summary>Stops new assignments to this connection's agent; in-flight ones finish.</summary>
    public bool Drain()
    {
        var agent = _registry.Drain(Context.ConnectionId);
        if (agent is not null)
        {
            Log.AgentDraining(_logger, agent.AgentId);
        }

        return agent is not null;
    }

    /// <summary>Runs a task and returns its one final result. Many may run at once on one connection.</summary>
    public Task<TaskResult> Submit(TaskRequest request) => _dispatcher.SubmitAsync(request, Context.ConnectionAborted);

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        var agent = _registry.RemoveConnection(Context.ConnectionId);
        if (agent is not null)
        {
            Log.AgentLeft(_logger, agent.AgentId, Context.ConnectionId);
        }

        return Task.CompletedTask;
    }
}
