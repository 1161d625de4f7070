using Aicp.Hub.Hubs;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Dispatch;

/// <summary>Sends Execute and Cancel to agents through the hub context.</summary>
internal sealed class SignalRAgentChannel(IHubContext<AicpHub> hub) : IAgentChannel
{
    public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment) =>
        hub.Clients.Client(agent.ConnectionId).SendAsync(HubMethods.Execute, assignment);

    public Task SendCancelAsync(AgentState agent, string taskId) =>
        hub.Clients.Client(agent.ConnectionId).SendAsync(HubMethods.Cancel, taskId);
}
