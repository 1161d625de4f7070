using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// SignalR's in-process lifetime manager for <see cref="AicpHub"/>, keeping each live connection reachable by id so
/// the dispatcher can write to an agent's connection directly (<see cref="Dispatch.SignalRAgentChannel"/>).
/// </summary>
/// <remarks>
/// A direct write goes through the connection's protocol into its pipe: no per-message copy of the serialized bytes
/// (which the lifetime manager's send keeps, in case a message goes to several protocols), and one buffer request
/// per frame, so a large assignment leaves as one WebSocket frame. It is registered for <see cref="AicpHub"/> by
/// <c>AddAicpHub</c>; the hub keeps its registry in process, so a scale-out backplane (which would replace the
/// lifetime manager) does not apply to it.
/// </remarks>
internal sealed class AicpHubLifetimeManager(ILogger<DefaultHubLifetimeManager<AicpHub>> logger) : DefaultHubLifetimeManager<AicpHub>(logger)
{
    private readonly ConcurrentDictionary<string, HubConnectionContext> _connections = new(StringComparer.Ordinal);

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        _connections[connection.ConnectionId] = connection;
        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        _connections.TryRemove(connection.ConnectionId, out _);
        return base.OnDisconnectedAsync(connection);
    }

    /// <summary>The live connection with this id, if any.</summary>
    public bool TryGetConnection(string connectionId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubConnectionContext? connection) =>
        _connections.TryGetValue(connectionId, out connection);
}
