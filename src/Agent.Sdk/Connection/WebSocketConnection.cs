using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// A <see cref="ConnectionContext"/> over one <see cref="ClientWebSocket"/>: a receive loop copies frames
/// into the input pipe, a send loop copies the output pipe into frames. Either side ending ends both.
/// </summary>
internal sealed class WebSocketConnection : ConnectionContext
{
    private readonly ClientWebSocket _socket;
    private readonly WebSocketMessageType _messageType;
    private readonly Pipe _input = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _receiving;
    private readonly Task _sending;

    public WebSocketConnection(ClientWebSocket socket, WebSocketMessageType messageType)
    {
        _socket = socket;
        _messageType = messageType;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        ConnectionClosed = _closed.Token;
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _socket.Abort();
        _closed.Cancel();
    }

    public override async ValueTask DisposeAsync()
    {
        _output.Writer.Complete();
        _input.Reader.Complete();
        var closing = Task.WhenAll(_receiving, _sending);
        if (await Task.WhenAny(closing, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false) != closing)
        {
            _socket.Abort();
            await closing.ConfigureAwait(false);
        }

        _socket.Dispose();
        _closed.Cancel();
        _closed.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _input.Writer.GetMemory(4096);
                var received = await _socket.ReceiveAsync(memory, CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                    }

                    break;
                }

                _input.Writer.Advance(received.Count);
                var flushed = await _input.Writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            error = ex is WebSocketException ? ex : null;
        }
        finally
        {
            await _input.Writer.CompleteAsync(error).ConfigureAwait(false);
            _output.Reader.CancelPendingRead();
            _closed.Cancel();
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                var read = await _output.Reader.ReadAsync().ConfigureAwait(false);
                var buffer = read.Buffer;
                try
                {
                    if (read.IsCanceled)
                    {
                        break;
                    }

                    if (!buffer.IsEmpty)
                    {
                        var position = buffer.Start;
                        var remaining = buffer.Length;
                        while (buffer.TryGet(ref position, out var segment))
                        {
                            remaining -= segment.Length;
                            await _socket.SendAsync(segment, _messageType, endOfMessage: remaining == 0, CancellationToken.None).ConfigureAwait(false);
                        }
                    }

                    if (read.IsCompleted)
                    {
                        break;
                    }
                }
                finally
                {
                    _output.Reader.AdvanceTo(buffer.End);
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _socket.Abort();
        }
        finally
        {
            await _output.Reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
