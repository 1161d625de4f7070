using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Tests.Sdk.Serialization;

/// <summary>Values to payloads and back, on both protocols, under System.Text.Json's names and rules.</summary>
public sealed class PayloadSerializerTests
{
    private static readonly PayloadSerializer MessagePack = new(AicpConnectionOptions.CreateSerializerOptions(), HubProtocol.MessagePack);
    private static readonly PayloadSerializer Json = new(AicpConnectionOptions.CreateSerializerOptions(), HubProtocol.Json);

    public sealed class Image
    {
        public byte[] Pixels { get; init; } = [];
        public ReadOnlyMemory<byte> Mask { get; init; }
        public string? Label { get; init; }
        public int TopK { get; init; } = 3;
        public double Score { get; init; }
        public List<Box> Boxes { get; init; } = [];
        public Dictionary<string, long> Counts { get; init; } = [];
        public DateTimeOffset At { get; init; }
        public DayOfWeek Day { get; init; }
        public decimal Price { get; init; }
    }

    public sealed record Box(int X, int Y, byte[] Crop, string? Note = null);

    private static Image Sample() => new()
    {
        Pixels = [1, 2, 3], Mask = new byte[] { 9 }, Label = null, TopK = 5, Score = 0.25,
        Boxes = [new Box(1, 2, [7, 8]), new Box(3, 4, [], "second")],
        Counts = new() { ["cats"] = 2, ["dogs"] = long.MaxValue },
        At = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.FromHours(1)), Day = DayOfWeek.Tuesday, Price = 12.5m,
    };

    private static Dictionary<string, MessagePackType> TopLevelTypes(ReadOnlyMemory<byte> messagePack)
    {
        var reader = new MessagePackReader(messagePack);
        var types = new Dictionary<string, MessagePackType>();
        for (var count = reader.ReadMapHeader(); count > 0; count--)
        {
            var key = reader.ReadString()!;
            types[key] = reader.NextMessagePackType;
            reader.Skip();
        }

        return types;
    }

    [Fact]
    public void Serialize_MessagePack_JsonNamesNullsLeftOutByteBuffersAsBinAtAnyDepth()
    {
        var payload = MessagePack.Serialize(Sample(), typeof(Image))!;

        Assert.True(payload.IsMessagePack);
        var types = TopLevelTypes(payload.MessagePack);
        Assert.Equal(["pixels", "mask", "topK", "score", "boxes", "counts", "at", "day", "price"], types.Keys);
        Assert.Equal(MessagePackType.Binary, types["pixels"]);
        Assert.Equal(MessagePackType.Binary, types["mask"]);
        Assert.Equal(MessagePackType.String, types["at"]); // as System.Text.Json writes it
        var crop = JsonDocument.Parse(payload.Json.GetRawText()).RootElement.GetProperty("boxes")[0].GetProperty("crop");
        Assert.Equal("Bwg=", crop.GetString()); // a nested byte[] is bin too; its JSON view is base64
    }

    [Fact]
    public void Serialize_SameValue_SameJsonOnBothProtocols()
    {
        var viaJson = Json.Serialize(Sample(), typeof(Image))!;
        var viaMessagePack = MessagePack.Serialize(Sample(), typeof(Image))!;

        Assert.False(viaJson.IsMessagePack);
        Assert.Equal(viaJson.Json.GetRawText(), viaMessagePack.Json.GetRawText());
    }

    [Fact]
    public void Deserialize_EitherForm_RoundTripsEveryMember()
    {
        foreach (var serializer in new[] { Json, MessagePack })
        {
            var back = serializer.Deserialize<Image>(serializer.Serialize(Sample(), typeof(Image)))!;

            Assert.Equal([1, 2, 3], back.Pixels);
            Assert.Equal([9], back.Mask.ToArray());
            Assert.Null(back.Label);
            Assert.Equal((5, 0.25, DayOfWeek.Tuesday, 12.5m), (back.TopK, back.Score, back.Day, back.Price));
            Assert.Equal(Sample().At, back.At);
            Assert.Equal([(1, 2, "", (string?)null), (3, 4, "", "second")], back.Boxes.Select(b => (b.X, b.Y, "", b.Note)));
            Assert.Equal([7, 8], back.Boxes[0].Crop);
            Assert.Equal(long.MaxValue, back.Counts["dogs"]);
        }
    }

    [Fact]
    public void Deserialize_JsonPeersPayloadConvertedToMessagePack_BindsBase64BytesAndAnyKeyCase()
    {
        // What a JSON submitter's payload looks like on a MessagePack agent: bytes as base64 text, keys as it wrote them.
        var fromJsonPeer = TaskPayload.FromMessagePack(TaskPayload.FromJson(JsonDocument.Parse(
            """{"PIXELS":"AQID","topk":4,"boxes":[{"x":1,"y":2,"crop":"Bwg="}],"at":"2026-12-01T08:00:00+01:00","day":2,"price":12.5}""").RootElement).MessagePack);

        var image = MessagePack.Deserialize<Image>(fromJsonPeer)!;

        Assert.Equal([1, 2, 3], image.Pixels);
        Assert.Equal(4, image.TopK);
        Assert.Equal([7, 8], image.Boxes.Single().Crop);
        Assert.Equal((DayOfWeek.Tuesday, 12.5m), (image.Day, image.Price));
    }

    [Theory]
    [InlineData("""{"topK":"many"}""")]
    [InlineData("""{"topK":2.5}""")]
    [InlineData("""{"boxes":{"x":1}}""")]
    [InlineData("""{"pixels":42}""")]
    [InlineData("[1,2]")]
    public void Deserialize_WrongShape_JsonExceptionOnEitherForm(string json)
    {
        var asJson = TaskPayload.FromJson(JsonDocument.Parse(json).RootElement);
        var asMessagePack = TaskPayload.FromMessagePack(asJson.MessagePack);

        Assert.ThrowsAny<JsonException>(() => Json.Deserialize<Image>(asJson));
        Assert.ThrowsAny<JsonException>(() => MessagePack.Deserialize<Image>(asMessagePack));
    }

    [Fact]
    public void Deserialize_RequiredMemberMissing_Refused()
    {
        var payload = MessagePack.Serialize(new { y = 2, crop = new byte[] { 1 } }, typeof(object));

        Assert.ThrowsAny<JsonException>(() => MessagePack.Deserialize<Required>(payload));
        Assert.Equal(3, MessagePack.Deserialize<Required>(MessagePack.Serialize(new { x = 3 }, typeof(object)))!.X);
    }

    public sealed class Required
    {
        public required int X { get; init; }
    }

    [Fact]
    public void Serialize_CyclicValue_RefusedNotOverflowing()
    {
        var node = new Node();
        node.Next = node;

        Assert.ThrowsAny<JsonException>(() => MessagePack.Serialize(node, typeof(Node)));
    }

    public sealed class Node
    {
        public Node? Next { get; set; }
    }

    [Fact]
    public void Serialize_NullUndefinedAndPayloads_NoneOrAsGiven()
    {
        Assert.Null(MessagePack.Serialize(null, typeof(object)));
        Assert.Null(MessagePack.Serialize(default(JsonElement), typeof(JsonElement)));
        var given = TaskPayload.FromMessagePack(new byte[] { 0x01 });
        Assert.Same(given, MessagePack.Serialize(given, typeof(TaskPayload)));
        Assert.Equal(new byte[] { 0xc4, 0x02, 7, 8 }, MessagePack.Serialize(new byte[] { 7, 8 }, typeof(byte[]))!.MessagePack.ToArray());
    }

    public sealed record Embedding(float[] Vector, double[] Scores, int[] Ids, long[] Offsets);

    [Fact]
    public void RoundTrip_NumberArrays_ValuesKeptOnEitherForm()
    {
        var value = new Embedding([0.25f, -1.5f, float.MaxValue], [Math.PI, -0.0], [int.MinValue, 0, int.MaxValue], [long.MinValue, long.MaxValue]);

        foreach (var serializer in new[] { Json, MessagePack })
        {
            var back = serializer.Deserialize<Embedding>(serializer.Serialize(value, typeof(Embedding)))!;

            Assert.Equal(value.Vector, back.Vector);
            Assert.Equal(value.Scores, back.Scores);
            Assert.Equal(value.Ids, back.Ids);
            Assert.Equal(value.Offsets, back.Offsets);
        }

        var tooLarge = TaskPayload.FromMessagePack(TaskPayload.FromJson(JsonDocument.Parse("""{"ids":[2147483648]}""").RootElement).MessagePack);
        Assert.ThrowsAny<JsonException>(() => MessagePack.Deserialize<Embedding>(tooLarge));
    }
}
