using System.Runtime.InteropServices;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>Binary payloads and results between .NET peers: bin end to end over MessagePack, base64 toward JSON.</summary>
public sealed class BinaryPayloadIntegrationTests
{
    private const int Size = 64 * 1024;

    private static byte[] Image(int seed) => [.. Enumerable.Range(0, Size).Select(k => (byte)((k * 31 + seed) % 251))];

    private static async Task<AicpAgent> StartAgentAsync(HubHarness h, string id, HubProtocol protocol, Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> handler, string method)
    {
        var agent = h.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = id, MaxConcurrency = 4, Protocol = protocol,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50), DrainTimeout = TimeSpan.FromSeconds(5),
        }));
        agent.Handle(method, handler);
        await agent.StartAsync().DefaultTimeout();
        return agent;
    }

    private static async Task<AicpTaskClient> StartClientAsync(HubHarness h, HubProtocol protocol)
    {
        var client = h.Own(new AicpTaskClient(new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), Protocol = protocol }));
        await client.ConnectAsync().DefaultTimeout();
        return client;
    }

    [Fact]
    public async Task MessagePackSubmitter_64KiBBin_ReachesMessagePackAgentAsRawBytes()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        var seen = new List<(bool Raw, bool Bin, bool SameBuffer, byte[] Bytes)>();
        await h.StartAgentAsync("mp-agent", (task, _) =>
        {
            Assert.True(task.Payload!.IsMessagePack);
            var raw = task.Payload.MessagePack;
            Assert.True(task.TryGetBinary("image", out var image));
            // A slice of the received MessagePack: no base64, no copy.
            var sameBuffer = MemoryMarshal.TryGetArray(raw, out var whole) && MemoryMarshal.TryGetArray(image, out var part) && whole.Array == part.Array;
            var binMarker = raw.Span[raw.Span.IndexOf(image.Span) - 5] == 0xc6; // bin32 header precedes the bytes
            lock (seen)
            {
                seen.Add((true, binMarker, sameBuffer, image.ToArray()));
            }

            return ValueTask.FromResult(JsonSerializer.SerializeToElement(new { length = image.Length, index = task.Payload!.Json.GetProperty("index").GetInt32() }));
        }, method: "image.label");
        var client = await h.StartClientAsync();

        var image = Image(1);
        var result = await client.SubmitAsync("image.label", new { Image = image, Index = 7 }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(Size, result.Result!.Json.GetProperty("length").GetInt32());
        Assert.Equal(7, result.Result!.Json.GetProperty("index").GetInt32());
        var (_, bin, sameBuffer, bytes) = Assert.Single(seen);
        Assert.True(bin);
        Assert.True(sameBuffer);
        Assert.Equal(image, bytes);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task MessagePackSubmitter_Bin_ReachesJsonAgentAsBase64()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        string? base64 = null;
        bool? arrivedAsMessagePack = null;
        byte[]? decoded = null;
        await StartAgentAsync(h, "json-agent", HubProtocol.Json, (task, _) =>
        {
            base64 = task.Payload!.Json.GetProperty("image").GetString();
            arrivedAsMessagePack = task.Payload.IsMessagePack;
            decoded = task.TryGetBinary("image", out var bytes) ? bytes.ToArray() : null;
            return ValueTask.FromResult(JsonSerializer.SerializeToElement(new { ok = true }));
        }, "image.label");
        var client = await StartClientAsync(h, HubProtocol.MessagePack);

        var image = Image(2);
        var result = await client.SubmitAsync("image.label", new { image }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(Convert.ToBase64String(image), base64);
        Assert.False(arrivedAsMessagePack);
        Assert.Equal(image, decoded);
    }

    [Fact]
    public async Task MessagePackAgent_BinResult_ReachesMessagePackSubmitterAsBin_AndJsonSubmitterAsBase64()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        var mask = Image(3);
        await h.StartAgentAsync("mp-agent", (task, _) =>
        {
            return ValueTask.FromResult<object>(new { mask, label = "cat" });
        }, method: "image.segment");
        var client = await h.StartClientAsync();
        var jsonClient = await StartClientAsync(h, HubProtocol.Json);

        var result = await client.SubmitAsync("image.segment", new { n = 1 }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.True(result.Result!.IsMessagePack);
        var raw = result.Result.MessagePack;
        Assert.True(result.TryGetResultBinary("mask", out var bytes));
        Assert.Equal(0xc6, raw.Span[raw.Span.IndexOf(bytes.Span) - 5]); // bin32
        Assert.Equal(mask, bytes.ToArray());
        Assert.Equal("cat", result.Result!.Json.GetProperty("label").GetString());

        var viaJson = await jsonClient.SubmitAsync("image.segment", new { n = 2 }).DefaultTimeout();
        Assert.False(viaJson.Result!.IsMessagePack);
        Assert.Equal(Convert.ToBase64String(mask), viaJson.Result!.Json.GetProperty("mask").GetString());
        Assert.True(viaJson.TryGetResultBinary("mask", out var decoded));
        Assert.Equal(mask, decoded.ToArray());
    }

    [Fact]
    public async Task TypedHandler_ByteArrayResponse_TravelsAsBin_JsonSubmitterBase64_ReachesAgentDecodable()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        var agent = h.Own(new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "typed", Protocol = HubProtocol.MessagePack, DrainTimeout = TimeSpan.FromSeconds(5),
        }));
        agent.Handle<Request, Response>("blob.reverse", (request, task, _) =>
        {
            Assert.True(task.TryGetBinary("data", out var viaAccessor));
            Assert.Equal(request.Data, viaAccessor.ToArray());
            return ValueTask.FromResult(new Response { Data = [.. request.Data.Reverse()], Length = request.Data.Length });
        });
        await agent.StartAsync().DefaultTimeout();

        // A JSON submitter sends base64: the agent's accessor decodes it, the typed binding works as before.
        var jsonClient = await StartClientAsync(h, HubProtocol.Json);
        var result = await jsonClient.SubmitAsync("blob.reverse", new Request { Data = [1, 2, 3] }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(new byte[] { 3, 2, 1 }, result.GetResult<Response>()!.Data);

        var client = await h.StartClientAsync();
        var binary = await client.SubmitAsync("blob.reverse", new Request { Data = Image(4) }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, binary.Status);
        Assert.True(binary.TryGetResultBinary("data", out var reversed));
        Assert.Equal(Image(4).Reverse(), reversed.ToArray());
        Assert.Equal(Size, binary.GetResult<Response>()!.Length);
    }

    [Theory]
    [InlineData(HubProtocol.MessagePack, 1_000_000)]
    [InlineData(HubProtocol.Json, 700_000)]
    public async Task PayloadNearTheLimit_EchoedBack_ArrivesWholeBothWays(HubProtocol protocol, int size)
    {
        // Payloads under the default 1 MiB limit, in frames near the 1 MiB + 64 KiB message limit (base64 in JSON).
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        await h.StartAgentAsync("big", (task, _) =>
        {
            Assert.True(task.TryGetBinary("data", out var data));
            return ValueTask.FromResult<object>(new { data });
        }, method: "blob.echo");
        var client = await h.StartClientAsync();
        var data = Enumerable.Range(0, size).Select(k => (byte)(k * 13 % 251)).ToArray();

        for (var i = 0; i < 3; i++)
        {
            var result = await client.SubmitAsync("blob.echo", new { data }).DefaultTimeout();

            Assert.Equal(TaskStatuses.Completed, result.Status);
            Assert.True(result.TryGetResultBinary("data", out var echoed));
            Assert.True(data.AsSpan().SequenceEqual(echoed.Span));
        }

        await h.AssertNothingPendingAsync();
    }

    public sealed class Request
    {
        public byte[] Data { get; set; } = [];
    }

    public sealed class Response
    {
        public byte[] Data { get; set; } = [];
        public int Length { get; set; }
    }
}
