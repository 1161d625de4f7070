using System.Buffers;
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
    /// <summary>Bytes asked of the input pipe per receive while idle (most messages are small).</summary>
    private const int ReceiveBlock = 4096;

    /// <summary>Least room worth receiving into; with less left in the current block, a new one is taken.</summary>
    private const int MinimumReceiveSpace = 1024;

    /// <summary>Bytes asked per receive while the rest of a large message is arriving.</summary>
    private const int LargeReceiveBlock = 64 * 1024;

    /// <summary>Most bytes of one unfinished message buffered before the reader is woken anyway.</summary>
    private const int MaxUnflushedBytes = 1024 * 1024;

    /// <summary>Largest output gathered into one buffer to go out as one frame.</summary>
    private const int MaxGatheredBytes = 4 * 1024 * 1024;

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
        // Not disposed: its token is this connection's ConnectionClosed, which others may still observe, and Abort
        // or the receive loop's exit may cancel it after this returns (it holds no timer, so nothing leaks).
        _closed.Cancel();
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            var sizeHint = ReceiveBlock;
            var unflushed = 0;
            while (true)
            {
                var memory = ReceiveMemory(sizeHint);
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
                unflushed += received.Count;
                if (!received.EndOfMessage && unflushed < MaxUnflushedBytes)
                {
                    // The rest of the message is on its way: wake the reader once, when it is complete (the reader
                    // could not parse a partial frame anyway). Ask for a bigger block only after a receive filled
                    // the one it had, so memory follows the bytes that arrive, not the number of receives.
                    sizeHint = received.Count == memory.Length ? LargeReceiveBlock : ReceiveBlock;
                    continue;
                }

                sizeHint = ReceiveBlock;
                unflushed = 0;
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

    /// <summary>
    /// Room for the next receive: a large block when the last receive filled what it had, otherwise what is left of
    /// the current block (a new one when little is left), so small frames share blocks instead of each taking one.
    /// </summary>
    private Memory<byte> ReceiveMemory(int sizeHint)
    {
        if (sizeHint > ReceiveBlock)
        {
            return _input.Writer.GetMemory(sizeHint);
        }

        var memory = _input.Writer.GetMemory(1);
        return memory.Length >= MinimumReceiveSpace ? memory : _input.Writer.GetMemory(ReceiveBlock);
    }

    /// <summary>
    /// Sends what the output pipe holds as one WebSocket message. Several pipe blocks (a large message is written
    /// in 4 KiB blocks) are gathered into one pooled buffer and sent as one frame, up to
    /// <see cref="MaxGatheredBytes"/>; beyond that, one frame per block.
    /// </summary>
    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, _messageType, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        if (buffer.Length <= MaxGatheredBytes)
        {
            var length = (int)buffer.Length;
            var gathered = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                buffer.CopyTo(gathered);
                await _socket.SendAsync(gathered.AsMemory(0, length), _messageType, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(gathered);
            }

            return;
        }

        var position = buffer.Start;
        var remaining = buffer.Length;
        while (buffer.TryGet(ref position, out var segment))
        {
            remaining -= segment.Length;
            await _socket.SendAsync(segment, _messageType, endOfMessage: remaining == 0, CancellationToken.None).ConfigureAwait(false);
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
                        await SendAsync(buffer).ConfigureAwait(false);
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
