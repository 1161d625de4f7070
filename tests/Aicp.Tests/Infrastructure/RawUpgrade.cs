using System.Net;
using System.Net.WebSockets;
using Aicp.Protocol;

namespace Aicp.Tests.Infrastructure;

/// <summary>One WebSocket upgrade to the hub endpoint, to read how the hub answered it (status, error code header).</summary>
public static class RawUpgrade
{
    /// <summary>The upgrade's HTTP status (101 when accepted) and the hub's <c>Aicp-Error-Code</c>; the socket, when accepted, is returned open.</summary>
    public static async Task<(HttpStatusCode StatusCode, string? ErrorCode, ClientWebSocket? Socket)> TryOpenAsync(Uri hubBaseUrl, string? token)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        var uri = new UriBuilder(new Uri(hubBaseUrl, ProtocolDefaults.HubPath)) { Scheme = hubBaseUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(TestTimeouts.Default);
            return (socket.HttpStatusCode, null, socket);
        }
        catch (WebSocketException)
        {
            var code = socket.HttpResponseHeaders?
                .FirstOrDefault(h => string.Equals(h.Key, ProtocolDefaults.ErrorCodeHeader, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
            var status = socket.HttpStatusCode;
            socket.Dispose();
            return (status, code, null);
        }
    }

    /// <summary>The upgrade's HTTP status and error code; an accepted socket is closed at once.</summary>
    public static async Task<(HttpStatusCode StatusCode, string? ErrorCode)> StatusAsync(Uri hubBaseUrl, string? token)
    {
        var (status, code, socket) = await TryOpenAsync(hubBaseUrl, token);
        socket?.Abort();
        socket?.Dispose();
        return (status, code);
    }
}
