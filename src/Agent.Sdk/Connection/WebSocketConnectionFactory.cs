using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// Opens the WebSocket for <see cref="Microsoft.AspNetCore.SignalR.Client.HubConnection"/> straight to a hub endpoint
/// (no negotiate round trip), with the token in the header or the query string, and wraps it in a
/// <see cref="WebSocketConnection"/>. With several hub URLs each connect takes the next one in turn. The SignalR client's own WebSockets transport is not used: it sends a large
/// message as one frame per 4 KiB pipe block and wakes the reader once per 4 KiB received, which made 64 KiB tasks
/// markedly slower end to end (docs/BENCHMARKS.md, "On the libraries the design names").
/// </summary>
internal sealed class WebSocketConnectionFactory(TransferFormat format, AicpConnectionOptions options) : IConnectionFactory
{
    private readonly IReadOnlyList<Uri> _endpoints = options.ResolveEndpoints();
    private volatile WebSocketConnection? _current;
    private int _attempts = -1;

    /// <summary>The endpoint of the latest connect attempt.</summary>
    public Uri? CurrentEndpoint { get; private set; }

    /// <summary>Connects to the next hub endpoint in turn; the <paramref name="endpoint"/> SignalR passes is the first of them.</summary>
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var uri = _endpoints[(int)((uint)Interlocked.Increment(ref _attempts) % (uint)_endpoints.Count)];
        CurrentEndpoint = uri;
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
                    target = AicpConnectionOptions.WithAccessToken(target, token);
                }
                else
                {
                    socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
                }
            }

            if (options.RemoteCertificateValidationCallback is { } validate)
            {
                socket.Options.RemoteCertificateValidationCallback = validate;
            }

            socket.Options.CollectHttpResponseDetails = true; // a refusal's status and error code
            options.ConfigureWebSocket?.Invoke(socket.Options);
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode >= HttpStatusCode.BadRequest)
        {
            var code = socket.HttpResponseHeaders?
                .FirstOrDefault(h => string.Equals(h.Key, Aicp.Protocol.ProtocolDefaults.ErrorCodeHeader, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new AicpConnectionRefusedException(status, code, ex);
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

    /// <summary>Aborts the most recent connection's socket (no close frame).</summary>
    public void AbortCurrent() => _current?.Abort(new ConnectionAbortedException("Aborted by the owner."));

    internal static Uri ToWebSocketUri(Uri uri) => new UriBuilder(uri)
    {
        Scheme = uri.Scheme switch
        {
            "http" or "ws" => "ws",
            "https" or "wss" => "wss",
            _ => throw new ArgumentException($"Unsupported scheme '{uri.Scheme}' in {uri}.", nameof(uri)),
        },
    }.Uri;
}
