using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// Opens a WebSocket straight to the hub's endpoint (no negotiate round trip) and exposes it to
/// <c>HubConnection</c> as a <see cref="ConnectionContext"/>; HubConnection then runs the SignalR handshake.
/// </summary>
internal sealed class WebSocketConnectionFactory(TransferFormat format, Action<ClientWebSocketOptions>? configure) : IConnectionFactory
{
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not UriEndPoint { Uri: var uri })
        {
            throw new NotSupportedException($"Only {nameof(UriEndPoint)} is supported, got {endpoint.GetType().Name}.");
        }

        var socket = new ClientWebSocket();
        try
        {
            configure?.Invoke(socket.Options);
            await socket.ConnectAsync(ToWebSocketUri(uri), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new WebSocketConnection(socket, format == TransferFormat.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
        _current = connection;
        return connection;
    }

    private volatile WebSocketConnection? _current;

    /// <summary>Aborts the most recent connection's socket (no close frame).</summary>
    public void AbortCurrent() => _current?.Abort(new ConnectionAbortedException("Aborted by the owner."));

    internal static Uri ToWebSocketUri(Uri uri)
    {
        var builder = new UriBuilder(uri)
        {
            Scheme = uri.Scheme switch
            {
                "http" or "ws" => "ws",
                "https" or "wss" => "wss",
                _ => throw new ArgumentException($"Unsupported scheme '{uri.Scheme}' in {uri}.", nameof(uri)),
            },
        };
        return builder.Uri;
    }
}
