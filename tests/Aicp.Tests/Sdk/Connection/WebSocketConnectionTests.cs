using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Aicp.Agent.Sdk.Connection;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Sdk.Connection;

/// <summary>
/// The SDK's WebSocket transport against a real WebSocket server on loopback: a message the pipe holds in many
/// blocks leaves as one frame, and a message that arrives in many frames reaches the reader whole, in one read.
/// Solo: one test counts the bytes the process allocates.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class WebSocketConnectionTests : IAsyncLifetime
{
    private WebApplication? _server;
    private readonly Channel<(int Frames, int Bytes)> _received = Channel.CreateUnbounded<(int, int)>();
    private readonly Channel<WebSocket> _accepted = Channel.CreateUnbounded<WebSocket>();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(["--urls=http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.UseWebSockets();
        _server.Map("/frames", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            _accepted.Writer.TryWrite(socket);
            var buffer = new byte[4 * 1024 * 1024];
            var frames = 0;
            var bytes = 0;
            while (true)
            {
                // A receive never returns data of two frames; with a buffer this large it returns one whole frame.
                var result = await socket.ReceiveAsync(buffer.AsMemory(bytes), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }

                frames++;
                bytes += result.Count;
                if (result.EndOfMessage)
                {
                    _received.Writer.TryWrite((frames, bytes));
                    frames = 0;
                    bytes = 0;
                }
            }

            await _done.Task;
        });
        await _server.StartAsync();
        _url = new Uri(_server.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal) + "/frames");
    }

    public async Task DisposeAsync()
    {
        _done.TrySetResult();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task<WebSocketConnection> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(_url, CancellationToken.None).DefaultTimeout();
        return new WebSocketConnection(socket, WebSocketMessageType.Binary);
    }

    [Fact]
    public async Task Send_AMessageWrittenInManyPipeBlocks_LeavesAsOneFrame()
    {
        await using var connection = await ConnectAsync();
        var message = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();

        connection.Transport.Output.Write(message); // the pipe stores this in 4 KiB blocks
        await connection.Transport.Output.FlushAsync().AsTask().DefaultTimeout();

        var (frames, bytes) = await _received.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.Equal(1, frames);
        Assert.Equal(message.Length, bytes);
    }

    [Fact]
    public async Task Receive_AMessageArrivingInManyFrames_IsReadWholeInOneRead()
    {
        await using var connection = await ConnectAsync();
        var server = await _accepted.Reader.ReadAsync().AsTask().DefaultTimeout();
        var message = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();

        for (var offset = 0; offset < message.Length; offset += 4096)
        {
            var length = Math.Min(4096, message.Length - offset);
            await server.SendAsync(message.AsMemory(offset, length), WebSocketMessageType.Binary, endOfMessage: offset + length == message.Length, CancellationToken.None)
                .AsTask().DefaultTimeout();
        }

        var read = await connection.Transport.Input.ReadAsync().AsTask().DefaultTimeout();
        Assert.Equal(message.Length, read.Buffer.Length);
        Assert.Equal(message, read.Buffer.ToArray());
        connection.Transport.Input.AdvanceTo(read.Buffer.End);

        // A small message after it is delivered on its own, at once.
        await server.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).DefaultTimeout();
        read = await connection.Transport.Input.ReadAsync().AsTask().DefaultTimeout();
        Assert.Equal(new byte[] { 1, 2, 3 }, read.Buffer.ToArray());
        connection.Transport.Input.AdvanceTo(read.Buffer.End);
    }

    [Fact]
    public async Task Receive_ManyTinyFramesOfOneMessage_TakeMemoryForTheirBytesNotPerFrame()
    {
        // A peer that sends a message one byte per frame must not make the client take a receive block per frame.
        await using var connection = await ConnectAsync();
        var server = await _accepted.Reader.ReadAsync().AsTask().DefaultTimeout();
        const int Frames = 4096;
        var before = GC.GetTotalAllocatedBytes(precise: true);

        for (var i = 0; i < Frames; i++)
        {
            await server.SendAsync(new[] { (byte)i }, WebSocketMessageType.Binary, endOfMessage: i == Frames - 1, CancellationToken.None).DefaultTimeout();
        }

        var read = await connection.Transport.Input.ReadAsync().AsTask().DefaultTimeout();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(Frames, read.Buffer.Length);
        Assert.Equal(Enumerable.Range(0, Frames).Select(i => (byte)i), read.Buffer.ToArray());
        connection.Transport.Input.AdvanceTo(read.Buffer.End);
        // A block per frame would be 16 MiB at 4 KiB (256 MiB at 64 KiB); the frames themselves cost well under 8 MiB.
        Assert.True(allocated < 8 * 1024 * 1024, $"{allocated:N0} bytes allocated for {Frames} one-byte frames");
    }

    [Fact]
    public async Task Abort_AfterDispose_IsHarmless_AndConnectionClosedStaysCancelled()
    {
        // The owner may abort the last connection it opened after SignalR has already disposed it.
        var connection = await ConnectAsync();
        await connection.DisposeAsync().AsTask().DefaultTimeout();

        connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("late abort"));

        Assert.True(connection.ConnectionClosed.IsCancellationRequested);
    }
}
