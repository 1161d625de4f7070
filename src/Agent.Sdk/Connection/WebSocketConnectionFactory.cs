using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// Opens a WebSocket straight to the hub's endpoint (no negotiate round trip) and exposes it to
/// <c>HubConnection</c> as a <see cref="ConnectionContext"/>; HubConnection then runs the SignalR handshake.
/// </summary>
internal sealed class WebSocketConnectionFactory(TransferFormat format, AicpConnectionOptions options) : IConnectionFactory
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
            var target = ToWebSocketUri(uri);
            var token = options.AccessTokenProvider is { } provider
                ? await provider(cancellationToken).ConfigureAwait(false)
                : options.AccessToken;
            if (!string.IsNullOrEmpty(token))
            {
                if (options.SendAccessTokenInQuery)
                {
                    target = WithAccessToken(target, token);
                }
                else
                {
                    socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
                }
            }

            options.ConfigureWebSocket?.Invoke(socket.Options);
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
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

    internal static Uri WithAccessToken(Uri uri, string token)
    {
        var parameter = Aicp.Protocol.ProtocolDefaults.AccessTokenQueryParameter + "=" + Uri.EscapeDataString(token);
        var builder = new UriBuilder(uri);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? parameter : builder.Query.TrimStart('?') + "&" + parameter;
        return builder.Uri;
    }

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
