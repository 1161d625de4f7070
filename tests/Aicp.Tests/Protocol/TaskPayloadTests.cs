using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Tests.Protocol;

/// <summary>A task payload in either form: checks on MessagePack input, the conversions both ways, and the accessors.</summary>
public sealed class TaskPayloadTests
{
    internal delegate void Build(ref MessagePackWriter writer);

    internal static byte[] Pack(Build build)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        build(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>{"image": bin [1,2,3], "n": 1}</summary>
    internal static readonly byte[] ImageMap = Pack((ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(2);
        w.Write("image");
        w.Write(new byte[] { 1, 2, 3 });
        w.Write("n");
        w.Write(1);
    });

    internal static byte[] Nested(int depth) => [.. Enumerable.Repeat((byte)0x91, depth), 0xc0];

    [Fact]
    public void FromMessagePack_KeepsTheBytes_JsonViewHasBinAsBase64()
    {
        var payload = TaskPayload.FromMessagePack(ImageMap);

        Assert.True(payload.IsMessagePack);
        Assert.Equal(ImageMap.Length, payload.Length);
        Assert.Equal(ImageMap, payload.MessagePack.ToArray());
        Assert.Equal("""{"image":"AQID","n":1}""", payload.Json.GetRawText());
    }

    [Fact]
    public void JsonView_ScalarsAndAwkwardValues_ValidJsonWithTheDocumentedForms()
    {
        var time = new DateTime(2026, 12, 1, 7, 51, 54, DateTimeKind.Utc).AddTicks(1234567);
        var bytes = Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(9);
            w.Write("max"); w.Write(ulong.MaxValue);
            w.Write("min"); w.Write(long.MinValue);
            w.Write("half"); w.Write(0.5f);
            w.Write("nan"); w.Write(double.NaN);
            w.Write("inf"); w.Write(float.NegativeInfinity);
            w.Write("ctl"); w.Write("a\u0000b\n\"c\u001f");
            w.Write("at"); w.Write(time);
            w.Write(42); w.Write("integer key");
            w.Write("list"); w.WriteArrayHeader(2); w.WriteNil(); w.Write(true);
        });

        var json = TaskPayload.FromMessagePack(bytes).Json;

        // Parsing the raw text again proves it is valid JSON (control characters escaped, no bare NaN).
        var reparsed = JsonDocument.Parse(json.GetRawText()).RootElement;
        Assert.Equal(ulong.MaxValue, reparsed.GetProperty("max").GetUInt64());
        Assert.Equal(long.MinValue, reparsed.GetProperty("min").GetInt64());
        Assert.Equal(0.5, reparsed.GetProperty("half").GetDouble());
        Assert.Equal("NaN", reparsed.GetProperty("nan").GetString());
        Assert.Equal("-Infinity", reparsed.GetProperty("inf").GetString());
        Assert.Equal("a\u0000b\n\"c\u001f", reparsed.GetProperty("ctl").GetString());
        Assert.Equal(time, reparsed.GetProperty("at").GetDateTime().ToUniversalTime());
        Assert.Equal("integer key", reparsed.GetProperty("42").GetString());
        Assert.Equal(JsonValueKind.Null, reparsed.GetProperty("list")[0].ValueKind);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(TaskPayload.MaxDepth)]
    public void FromMessagePack_NestingUpToTheLimit_Accepted(int depth)
    {
        var payload = TaskPayload.FromMessagePack(Nested(depth));

        var element = payload.Json;
        for (var i = 0; i < depth; i++)
        {
            element = element[0];
        }

        Assert.Equal(JsonValueKind.Null, element.ValueKind);
    }

    [Theory]
    [InlineData(TaskPayload.MaxDepth + 1)]
    [InlineData(200_000)]
    public void FromMessagePack_NestingBeyondTheLimit_RejectedWithoutRecursing(int depth)
    {
        var error = Assert.Throws<MessagePackSerializationException>(() => TaskPayload.FromMessagePack(Nested(depth)));
        Assert.Contains($"more than {TaskPayload.MaxDepth}", error.Message);
    }

    public static TheoryData<string, byte[]> Unacceptable => new()
    {
        { "invalid UTF-8", [0x81, 0xa1, (byte)'s', 0xa2, 0xc3, 0x28] },
        { "invalid UTF-8 key", [0x81, 0xa2, 0xc3, 0x28, 0x01] },
        { "array as a map key", [0x81, 0x90, 0x01] },
        { "extension type 5", [0xd4, 0x05, 0x00] },
        { "timestamp of 3 bytes", [0xc7, 0x03, 0xff, 0x00, 0x00, 0x00] },
        { "truncated str", [0xa5, (byte)'a'] },
        { "map missing its values", [0x82, 0xa1, (byte)'a'] },
        { "never-used byte", [0xc1] },
        { "two values", [0x01, 0x02] },
        { "nothing", [] },
    };

    [Theory]
    [MemberData(nameof(Unacceptable))]
    public void FromMessagePack_ValueWithoutJsonForm_Rejected(string because, byte[] bytes)
    {
        var error = Assert.Throws<MessagePackSerializationException>(() => TaskPayload.FromMessagePack(bytes));
        Assert.False(string.IsNullOrEmpty(error.Message), because);
    }

    [Fact]
    public void FromJson_WrittenAsMessagePack_IntegersStayIntegersOthersFloat64()
    {
        var payload = TaskPayload.FromJson(JsonDocument.Parse(
            """{"small":1,"neg":-5,"big":18446744073709551615,"fraction":2.5,"exp":1e3,"huge":1e400,"s":"x","list":[true,null]}""").RootElement);

        var reader = new MessagePackReader(payload.MessagePack);
        Assert.Equal(8, reader.ReadMapHeader());
        var values = new Dictionary<string, object?>();
        for (var i = 0; i < 8; i++)
        {
            var key = reader.ReadString()!;
            values[key] = reader.NextMessagePackType switch
            {
                MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64 => reader.ReadUInt64(),
                MessagePackType.Integer => reader.ReadInt64(),
                MessagePackType.Float => reader.ReadDouble(),
                MessagePackType.String => reader.ReadString(),
                _ => SkipAndName(ref reader),
            };
        }

        Assert.False(payload.IsMessagePack);
        Assert.Equal(1L, values["small"]);
        Assert.Equal(-5L, values["neg"]);
        Assert.Equal(ulong.MaxValue, values["big"]);
        Assert.Equal(2.5, values["fraction"]);
        Assert.Equal(1000.0, values["exp"]);
        Assert.Equal(double.PositiveInfinity, values["huge"]);
        Assert.Equal("x", values["s"]);
        Assert.Equal("Array", values["list"]);
    }

    private static string SkipAndName(ref MessagePackReader reader)
    {
        var name = reader.NextMessagePackType.ToString();
        reader.Skip();
        return name;
    }

    [Fact]
    public void RoundTrip_MessagePackToJsonAndBack_SameValue()
    {
        var original = TaskPayload.FromMessagePack(Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(3);
            w.Write("a"); w.WriteArrayHeader(3); w.Write(1); w.Write(-2); w.Write(3.25);
            w.Write("b"); w.Write("text");
            w.Write("c"); w.WriteMapHeader(1); w.Write("d"); w.Write(false);
        }));

        var back = TaskPayload.FromJson(original.Json);

        Assert.Equal(original.Json.GetRawText(), TaskPayload.FromMessagePack(back.MessagePack).Json.GetRawText());
    }

    [Fact]
    public void TryGetBinary_BinInMessagePack_SliceOfTheSameBytes()
    {
        var payload = TaskPayload.FromMessagePack(ImageMap);

        Assert.True(payload.TryGetBinary("IMAGE", out var image));
        Assert.Equal(new byte[] { 1, 2, 3 }, image.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(image, out var slice) && ReferenceEquals(slice.Array, ImageMap));
        Assert.False(payload.TryGetBinary("n", out _));
        Assert.False(payload.TryGetBinary("absent", out _));
        Assert.False(payload.TryGetBinary(null, out _));
        Assert.True(TaskPayload.FromMessagePack(new byte[] { 0xc4, 0x02, 7, 8 }).TryGetBinary(null, out var whole));
        Assert.Equal(new byte[] { 7, 8 }, whole.ToArray());
    }

    [Fact]
    public void TryGetBinary_Base64Text_DecodedInEitherForm()
    {
        var json = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { image = new byte[] { 1, 2, 3 }, name = "not base64!" }));
        var messagePack = TaskPayload.FromMessagePack(json.MessagePack);

        foreach (var payload in new[] { json, messagePack })
        {
            Assert.True(payload.TryGetBinary("image", out var image));
            Assert.Equal(new byte[] { 1, 2, 3 }, image.ToArray());
            Assert.False(payload.TryGetBinary("name", out _));
        }
    }

    [Fact]
    public void TryGetInt64_TopLevelInteger_EitherForm()
    {
        var json = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { topK = 5, text = "x", big = ulong.MaxValue }));
        var messagePack = TaskPayload.FromMessagePack(json.MessagePack);

        foreach (var payload in new[] { json, messagePack })
        {
            Assert.True(payload.TryGetInt64("TOPK", out var topK));
            Assert.Equal(5, topK);
            Assert.False(payload.TryGetInt64("text", out _));
            Assert.False(payload.TryGetInt64("big", out _));
            Assert.False(payload.TryGetInt64("absent", out _));
        }
    }

    [Fact]
    public void Length_JsonPayload_Utf8BytesOfItsText()
    {
        var payload = TaskPayload.FromJson(JsonDocument.Parse("""{"text":"héllo"}""").RootElement);

        Assert.Equal(Encoding.UTF8.GetByteCount("""{"text":"héllo"}"""), payload.Length);
    }

    [Fact]
    public void JsonPayload_WrittenAsTheTextItArrivedIn_NotEscapedAgain()
    {
        // As it might come from a submitter: spacing, non-ASCII text, characters an HTML-safe encoder escapes, an escape.
        const string text = """{ "text": "héllo <b> & 'q'", "n": 1.50, "e": "\u0041" }""";
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var read = JsonSerializer.Deserialize<TaskAssignment>($$"""{"taskId":"t","attempt":1,"method":"m","payload":{{text}}}""", options)!;

        var written = JsonSerializer.Serialize(read, options);

        Assert.Contains($"\"payload\":{text}", written, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), read.Payload!.Length);
    }
}
