using Aicp.Hub.Registry;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>How the dispatcher talks to agents. The SignalR implementation sends hub-to-client messages.</summary>
internal interface IAgentChannel
{
    /// <summary>Sends an assignment. May throw; the dispatcher treats a failed send as a failed attempt.</summary>
    Task SendExecuteAsync(AgentState agent, TaskAssignment assignment);

    /// <summary>Tells an agent to abandon a task. May throw; the dispatcher ignores failures.</summary>
    Task SendCancelAsync(AgentState agent, string taskId);
}
