using Aicp.Hub.Dashboard;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Security;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// Creates the hub object for each invocation from the singletons it holds. SignalR's default activator is a scoped
/// service that resolves every constructor argument from the invocation's scope: a dictionary of resolved services
/// and seven look-ups for each of the two invocations a task makes (Submit and Complete). Every dependency of
/// <see cref="AicpHub"/> is a singleton, so one activator serves all invocations.
/// </summary>
internal sealed class AicpHubActivator(AgentRegistry registry, TaskDispatcher dispatcher, HubCallGate gate, StatusFeed statusFeed, TimeProvider time,
    HubMetrics metrics, ILogger<AicpHub> logger) : IHubActivator<AicpHub>
{
    public AicpHub Create() => new(registry, dispatcher, gate, statusFeed, time, metrics, logger);

    public void Release(AicpHub hub) => hub.Dispose();
}
