using System.Collections.Concurrent;
using Aicp.Hub.Security;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Aicp.Hub.Hubs;

/// <summary>
/// SignalR's in-process lifetime manager for <see cref="AicpHub"/>, keeping each live connection reachable by id so
/// the dispatcher can write to an agent's connection directly (<see cref="Dispatch.SignalRAgentChannel"/>), together
/// with what its caller may do (<see cref="CallerGrants"/>, read once when it connects), so connections opened with a
/// revoked API key can be found and closed.
/// </summary>
/// <remarks>
/// A direct write goes through the connection's protocol into its pipe: no per-message copy of the serialized bytes
/// (which the lifetime manager's send keeps, in case a message goes to several protocols), and one buffer request
/// per frame, so a large assignment leaves as one WebSocket frame. It is registered for <see cref="AicpHub"/> by
/// <c>AddAicpHub</c>; the hub keeps its registry in process, so a scale-out backplane (which would replace the
/// lifetime manager) does not apply to it.
/// </remarks>
internal sealed class AicpHubLifetimeManager(ILogger<DefaultHubLifetimeManager<AicpHub>> logger, ApiKeyStore keys, SecurityEvents events,
    TimeProvider time) : DefaultHubLifetimeManager<AicpHub>(logger)
{
    /// <summary>How long a close message may take before the connection is aborted anyway.</summary>
    private static readonly TimeSpan CloseMessageTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The error of the close message sent to a connection whose API key was revoked.</summary>
    public static readonly string RevokedCloseError =
        $"{Aicp.Protocol.ErrorCodes.CredentialRevoked}: the API key of this connection was revoked or changed; reconnect with a valid credential.";

    private readonly ConcurrentDictionary<string, LiveConnection> _connections = new(StringComparer.Ordinal);

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        var grants = CallerGrants.From(connection.User, connection.ConnectionId, connection.GetHttpContext(), keys.DefaultLimits);
        connection.Items[typeof(CallerGrants)] = grants; // read by the hub on every call (AicpHub.Caller)
        _connections[connection.ConnectionId] = new LiveConnection(connection, grants);

        // A reload may have revoked the key between authentication and now. It marks the key revoked before it looks for
        // connections to close, so either that sweep sees this connection or this check sees the mark.
        Interlocked.MemoryBarrier();
        if (grants.Key?.IsRevoked == true)
        {
            _ = CloseAsync(connection, RevokedCloseError);
        }

        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (_connections.TryRemove(connection.ConnectionId, out var live) && live.Grants.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            events.CredentialExpired(connection.ConnectionId, live.Grants.Name, expires);
        }

        return base.OnDisconnectedAsync(connection);
    }

    /// <summary>Open hub connections.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>The live connection with this id, if any.</summary>
    public bool TryGetConnection(string connectionId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubConnectionContext? connection)
    {
        connection = _connections.TryGetValue(connectionId, out var live) ? live.Connection : null;
        return connection is not null;
    }

    /// <summary>
    /// Closes every connection opened with <paramref name="key"/>: a close message carrying <paramref name="error"/>
    /// (clients may reconnect, with a new credential), then the transport. Returns how many it closed. Their agents leave
    /// the registry as on any disconnect, and their attempts fail over.
    /// </summary>
    public async Task<int> CloseConnectionsAsync(ApiKeyEntry key, string error)
    {
        var closing = _connections.Values.Where(c => ReferenceEquals(c.Grants.Key, key)).Select(c => CloseAsync(c.Connection, error)).ToList();
        await Task.WhenAll(closing).ConfigureAwait(false);
        return closing.Count;
    }

    private static async Task CloseAsync(HubConnectionContext connection, string error)
    {
        using var timeout = new CancellationTokenSource(CloseMessageTimeout);
        try
        {
            await connection.WriteAsync(new CloseMessage(error, allowReconnect: true), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            // the connection is going anyway; the abort below ends it
        }

        connection.Abort();
    }

    private sealed record LiveConnection(HubConnectionContext Connection, CallerGrants Grants);
}
