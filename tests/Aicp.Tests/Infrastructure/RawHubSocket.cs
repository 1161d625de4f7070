using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Aicp.Protocol;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A SignalR JSON-protocol peer spoken by hand over a bare <see cref="ClientWebSocket"/>: it performs the
/// handshake itself and can then send any frame, well-formed or not. Incoming messages are parsed and kept
/// (when <c>keep</c>) for the test to await, or dropped.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    public const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _messages = Channel.CreateUnbounded<JsonElement>();
    private readonly bool _keep;
    private readonly Task _receiving;

    private RawHubSocket(ClientWebSocket socket, bool keep)
    {
        _socket = socket;
        _keep = keep;
        _receiving = ReceiveLoopAsync();
    }

    /// <summary>Completes when the server closed or dropped the socket.</summary>
    public Task Closed => _receiving;

    public bool IsOpen => _socket.State == WebSocketState.Open && !_receiving.IsCompleted;

    public static async Task<RawHubSocket> ConnectAsync(Uri hubBaseUrl, string? accessToken = null, bool keep = true)
    {
        var socket = new ClientWebSocket();
        if (accessToken is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + accessToken);
        }

        var uri = new UriBuilder(new Uri(hubBaseUrl, ProtocolDefaults.HubPath)) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator), WebSocketMessageType.Text, true, CancellationToken.None);

        // The handshake response is one record, "{}" (or an error); it arrives before anything else.
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
        var response = Encoding.UTF8.GetString(buffer, 0, received.Count).TrimEnd(RecordSeparator);
        if (response != "{}")
        {
            socket.Dispose();
            throw new InvalidOperationException($"Handshake failed: {response}");
        }

        return new RawHubSocket(socket, keep);
    }

    /// <summary>Sends one text record (the separator is appended).</summary>
    public Task SendRecordAsync(string json) => SendRawAsync(Encoding.UTF8.GetBytes(json + RecordSeparator));

    /// <summary>Sends bytes as one WebSocket message, exactly as given.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, WebSocketMessageType type = WebSocketMessageType.Text) =>
        await _socket.SendAsync(bytes, type, true, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);

    /// <summary>An invocation of a hub method; with an id the hub answers with a completion message.</summary>
    public Task InvokeAsync(string target, string? invocationId, params object?[] arguments) =>
        SendRecordAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = 1, ["invocationId"] = invocationId, ["target"] = target, ["arguments"] = arguments,
        }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));

    /// <summary>The next kept message that matches, bounded by the default timeout.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            var message = await _messages.Reader.ReadAsync(timeout.Token);
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>The completion for an invocation id.</summary>
    public Task<JsonElement> CompletionAsync(string invocationId) =>
        NextAsync(m => m.GetProperty("type").GetInt32() == 3 && m.TryGetProperty("invocationId", out var id) && id.GetString() == invocationId);

    /// <summary>The next hub-to-client invocation of <paramref name="target"/> (e.g. Execute).</summary>
    public Task<JsonElement> InvocationAsync(string target) =>
        NextAsync(m => m.GetProperty("type").GetInt32() == 1 && m.GetProperty("target").GetString() == target);

    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        try
        {
            await _receiving.WaitAsync(TestTimeouts.Default);
        }
        catch (Exception)
        {
            // already torn down
        }

        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var pending = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (!_keep)
                {
                    continue;
                }

                pending.Write(buffer.AsSpan(0, received.Count));
                var span = pending.WrittenSpan;
                int end;
                var consumed = 0;
                while ((end = span[consumed..].IndexOf((byte)RecordSeparator)) >= 0)
                {
                    using var doc = JsonDocument.Parse(span.Slice(consumed, end).ToArray());
                    _messages.Writer.TryWrite(doc.RootElement.Clone());
                    consumed += end + 1;
                }

                var rest = span[consumed..].ToArray();
                pending.Clear();
                pending.Write(rest);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the server closed or we aborted: the socket's life ends here
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _messages.Writer.TryComplete();
        }
    }
}
