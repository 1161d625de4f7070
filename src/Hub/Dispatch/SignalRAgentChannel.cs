using Aicp.Hub.Hubs;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// Sends Execute and Cancel to agents: straight to the agent's connection when the hub's own lifetime manager is in
/// use, otherwise through the hub context.
/// </summary>
internal sealed class SignalRAgentChannel(IHubContext<AicpHub> hub, HubLifetimeManager<AicpHub> lifetime) : IAgentChannel
{
    private readonly AicpHubLifetimeManager? _connections = lifetime as AicpHubLifetimeManager;

    /// <summary>Whether sends go straight to agents' connections (the hub's own lifetime manager is in use).</summary>
    internal bool WritesDirectly => _connections is not null;

    public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment) =>
        SendAsync(agent, HubMethods.Execute, assignment);

    public Task SendCancelAsync(AgentState agent, string taskId) =>
        SendAsync(agent, HubMethods.Cancel, taskId);

    private Task SendAsync(AgentState agent, string method, object argument)
    {
        if (_connections is null)
        {
            return hub.Clients.Client(agent.ConnectionId).SendAsync(method, argument);
        }

        // A connection that is already gone gets nothing, as with the hub context; its disconnect fails the attempt over.
        return _connections.TryGetConnection(agent.ConnectionId, out var connection)
            ? connection.WriteAsync(new InvocationMessage(method, [argument])).AsTask()
            : Task.CompletedTask;
    }
}
