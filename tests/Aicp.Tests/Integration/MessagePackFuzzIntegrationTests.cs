using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Protocol;
using Xunit.Abstractions;

namespace Aicp.Tests.Integration;

/// <summary>
/// Hostile MessagePack frames over real sockets: truncated frames, length prefixes claiming gigabytes, nesting
/// 10,000 deep, wrong types, unknown message types, random bytes, and valid frames with arguments that do not bind.
/// The offending connection may be closed; the hub and a well-behaved MessagePack agent and submitter carry on.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class MessagePackFuzzIntegrationTests(ITestOutputHelper output)
{
    private const int Connections = 4;
    private const int FramesPerConnection = 2_500;
    private const int Seed = 7_070_707;

    [Fact]
    public async Task Hub_TenThousandHostileMessagePackFrames_StaysUpAndWellBehavedClientSeesNoError()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(logs: logs, protocol: HubProtocol.MessagePack);
        await h.StartAgentAsync("good", HubHarness.Echo("good"));
        var client = await h.StartClientAsync();

        var wellBehaved = new WellBehavedSubmitter(client, "image.label");

        var stats = await Task.WhenAll(Enumerable.Range(0, Connections)
            .Select(i => Task.Run(() => FuzzAsync(h.Hub.BaseUrl, Seed + i)))).WaitAsync(TimeSpan.FromSeconds(90));
        await wellBehaved.StopAsync();

        var sent = stats.Sum(s => s.Sent);
        var closed = stats.Sum(s => s.Reconnects);
        output.WriteLine($"{sent} MessagePack frames from {Connections} connections; {closed} connections closed by the hub; well-behaved client: {wellBehaved.Results} tasks");
        Assert.True(sent >= 10_000);
        Assert.True(closed > 0, "no malformed frame closed a connection");
        Assert.Empty(wellBehaved.Failures);
        Assert.True(wellBehaved.Results > 0);
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", new { after = true }).DefaultTimeout()).Status);
        await TestTimeouts.Eventually(() => h.Registry.Count == 1 && h.Registry.GetById("good") is not null, "only the good agent left registered");
        await h.AssertNothingPendingAsync();
        var hubErrors = logs.Errors("Aicp.");
        Assert.True(hubErrors.Count == 0, string.Join(Environment.NewLine, hubErrors.Take(5).Select(e => $"{e.Category}: {e.Message} {e.Exception}")));
    }

    private readonly record struct FuzzStats(int Sent, int Reconnects);

    private static async Task<FuzzStats> FuzzAsync(Uri hub, int seed)
    {
        var random = new Random(seed);
        var protocol = new MessagePackHubProtocol();
        var socket = await ConnectAsync(hub);
        var reconnects = 0;
        for (var sent = 0; sent < FramesPerConnection; sent++)
        {
            if (socket.State != WebSocketState.Open)
            {
                socket.Dispose();
                socket = await ConnectAsync(hub);
                reconnects++;
            }

            try
            {
                await socket.SendAsync(new ReadOnlyMemory<byte>(Frame(random, protocol)), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
            }
            catch (WebSocketException)
            {
                // closed by the hub mid-send: reopen on the next frame
            }

            if (sent % 100 == 0)
            {
                await Task.Yield();
            }
        }

        socket.Dispose();
        return new FuzzStats(FramesPerConnection, reconnects);
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri hub)
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(new Uri(hub, ProtocolDefaults.HubPath)) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"messagepack\",\"version\":2}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
        Assert.Equal("{}\u001e", Encoding.UTF8.GetString(buffer, 0, received.Count));
        _ = DrainAsync(socket);
        return socket;
    }

    /// <summary>Reads and drops whatever the hub sends, so its writes never back up.</summary>
    private static async Task DrainAsync(ClientWebSocket socket)
    {
        var buffer = new byte[8192];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                if ((await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)).MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private static byte[] Frame(Random random, MessagePackHubProtocol protocol)
    {
        byte[] Valid(HubMessage message)
        {
            var writer = new ArrayBufferWriter<byte>();
            protocol.WriteMessage(message, writer);
            return writer.WrittenSpan.ToArray();
        }

        byte[] Framed(byte[] body)
        {
            var writer = new ArrayBufferWriter<byte>();
            var length = body.Length;
            do
            {
                var b = (byte)(length & 0x7f);
                length >>= 7;
                writer.Write([length > 0 ? (byte)(b | 0x80) : b]);
            }
            while (length > 0);
            writer.Write(body);
            return writer.WrittenSpan.ToArray();
        }

        object?[] RandomArguments() => random.Next(6) switch
        {
            0 => [],
            1 => [random.Next()],
            2 => [new string('z', random.Next(1, 50_000))],
            3 => [null, null, null],
            4 => [new Dictionary<string, object?> { ["method"] = random.Next(2) == 0 ? "image.label" : "no.such", ["payload"] = random.Next(), ["timeoutMs"] = "soon" }],
            _ => [new object?[] { 1.5, true, "x", new byte[] { 1, 2, 3 } }],
        };

        string[] targets = [HubMethods.Submit, HubMethods.Register, HubMethods.Complete, HubMethods.Drain, HubMethods.ReportLoad, "NoSuchMethod", "x"];
        return random.Next(100) switch
        {
            < 20 => Valid(new InvocationMessage(random.Next(2) == 0 ? null : random.Next(1000).ToString(), targets[random.Next(targets.Length)], RandomArguments())),
            < 30 => Valid(PingMessage.Instance),
            < 40 => Valid(new InvocationMessage("1", HubMethods.Submit, [new Dictionary<string, object?> { ["method"] = "image.label", ["payload"] = new { fuzz = random.Next() } }]))
                [..^random.Next(1, 4)], // truncated: the frame never completes (the next frame's bytes join it)
            < 45 => [0xff, 0xff, 0xff, 0xff, 0x07, 0x91, 0x06], // a length prefix claiming 2 GiB
            < 50 => Framed([0x96, 0x01, 0x80, 0xc0, 0xa6, .. "Submit"u8, 0x91, .. Enumerable.Repeat((byte)0x91, 10_000), 0xc0, 0x90]), // nesting 10,000 deep
            < 60 => Framed([0x93, 0x63, 0x80, 0xc0]), // unknown message type 99
            < 70 => Framed([0x96, 0xa1, (byte)'x', 0x80, 0xc0, 0xa6, .. "Submit"u8, 0x90, 0x90]), // wrong type for the message type
            < 75 => Framed([0xc1]), // the never-used format byte
            < 80 => Framed([0x96, 0x01, 0x80, 0xc0, 0xa6, .. "Submit"u8, 0x91, 0xdb, 0xff, 0xff, 0xff, 0x7f]), // str32 claiming 2 GiB
            < 90 => Framed([.. Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))]),
            _ => Valid(new CancelInvocationMessage(random.Next(1000).ToString())),
        };
    }
}
