using System.Text;
using System.Text.Json;
using Aicp.Protocol.MessagePack;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

public class MessagePackJsonTranscoderTests
{
    private static string ToJson(byte[] messagePack) => Encoding.UTF8.GetString(MessagePackJsonTranscoder.ToJson(messagePack));

    private static byte[] ToMessagePack(string json) => MessagePackJsonTranscoder.ToMessagePack(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void ToJson_Scalars_MappedOneToOne()
    {
        Assert.Equal("null", ToJson(Bytes(0xc0)));
        Assert.Equal("true", ToJson(Bytes(0xc3)));
        Assert.Equal("-33", ToJson(Bytes(0xd0, 0xdf)));
        Assert.Equal("18446744073709551615", ToJson(Bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
        Assert.Equal("1.5", ToJson(Bytes(0xca, 0x3f, 0xc0, 0x00, 0x00)));
        Assert.Equal("\"xyz\"", ToJson(Bytes(0xa3, 0x78, 0x79, 0x7a)));
    }

    [Fact]
    public void ToJson_Binary_Base64String()
    {
        Assert.Equal("\"AQID\"", ToJson(Bytes(0xc4, 0x03, 0x01, 0x02, 0x03)));
    }

    [Fact]
    public void ToJson_Timestamp_Iso8601Utc()
    {
        Assert.Equal("\"2023-11-14T22:13:20.0000000Z\"", ToJson(Bytes(0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00)));
    }

    [Fact]
    public void ToJson_MapWithIntegerKeys_KeysBecomeText()
    {
        Assert.Equal("{\"1\":\"a\",\"-2\":[]}", ToJson(Bytes(0x82, 0x01, 0xa1, 0x61, 0xfe, 0x90)));
    }

    [Fact]
    public void ToJson_MapWithNilKey_NotSupported()
    {
        Assert.Throws<NotSupportedException>(() => ToJson(Bytes(0x81, 0xc0, 0x01)));
    }

    [Fact]
    public void ToJson_UnknownExtension_NotSupported()
    {
        Assert.Throws<NotSupportedException>(() => ToJson(Bytes(0xd4, 0x05, 0x00)));
    }

    [Fact]
    public void ToJson_NaN_NamedLiteralString()
    {
        Assert.Equal("\"NaN\"", ToJson(Bytes(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0)));
    }

    [Fact]
    public void ToJson_InvalidUtf8String_FormatException()
    {
        Assert.Throws<MessagePackFormatException>(() => ToJson(Bytes(0xa1, 0xff)));
    }

    [Fact]
    public void ToJson_TenThousandNestedArrays_FormatException()
    {
        var bytes = Enumerable.Repeat((byte)0x91, 10_000).Append((byte)0xc0).ToArray();
        Assert.Throws<MessagePackFormatException>(() => ToJson(bytes));
    }

    [Fact]
    public void ToJson_TrailingBytes_FormatException()
    {
        Assert.Throws<MessagePackFormatException>(() => ToJson(Bytes(0x01, 0x02)));
    }

    [Fact]
    public void ToMessagePack_Object_MapWithCountsInFront()
    {
        var bytes = ToMessagePack("{\"a\":[1,2,{\"b\":null}],\"c\":\"x\",\"d\":{}}");

        Assert.Equal(
            Bytes(0x83, 0xa1, 0x61, 0x93, 0x01, 0x02, 0x81, 0xa1, 0x62, 0xc0, 0xa1, 0x63, 0xa1, 0x78, 0xa1, 0x64, 0x80),
            bytes);
    }

    [Theory]
    [InlineData("0", new byte[] { 0x00 })]
    [InlineData("127", new byte[] { 0x7f })]
    [InlineData("128", new byte[] { 0xcc, 0x80 })]
    [InlineData("-33", new byte[] { 0xd0, 0xdf })]
    [InlineData("18446744073709551615", new byte[] { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })]
    [InlineData("1.5", new byte[] { 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 })]
    [InlineData("1e2", new byte[] { 0xcb, 0x40, 0x59, 0, 0, 0, 0, 0, 0 })]
    [InlineData("true", new byte[] { 0xc3 })]
    [InlineData("false", new byte[] { 0xc2 })]
    [InlineData("null", new byte[] { 0xc0 })]
    public void ToMessagePack_Scalar_IntegralToIntElseFloat64(string json, byte[] expected)
    {
        Assert.Equal(expected, ToMessagePack(json));
    }

    [Fact]
    public void ToMessagePack_BigIntegerBeyondUInt64_Float64()
    {
        var bytes = ToMessagePack("18446744073709551616");
        Assert.Equal(0xcb, bytes[0]);
        Assert.Equal(18446744073709551616d, new MessagePackReader(bytes).ReadDouble());
    }

    [Fact]
    public void ToMessagePack_EscapedStrings_Unescaped()
    {
        var bytes = ToMessagePack("{\"k\\u00e9\":\"a\\\"b\\n\\u20ac\"}");

        var reader = new MessagePackReader(bytes);
        Assert.Equal(1, reader.ReadMapHeader());
        Assert.Equal("ké", reader.ReadString());
        Assert.Equal("a\"b\n€", reader.ReadString());
    }

    [Fact]
    public void ToMessagePack_LongEscapedString_Unescaped()
    {
        var text = string.Concat(Enumerable.Repeat("\\u00e9", 1000));
        var reader = new MessagePackReader(ToMessagePack($"\"{text}\""));
        Assert.Equal(new string('é', 1000), reader.ReadString());
    }

    [Fact]
    public void ToMessagePack_SixteenElements_Array16()
    {
        var json = "[" + string.Join(",", Enumerable.Range(0, 16)) + "]";
        Assert.Equal(Bytes(0xdc, 0x00, 0x10), ToMessagePack(json)[..3]);
    }

    [Fact]
    public void RoundTrip_JsonDocument_Equivalent()
    {
        const string json = "{\"name\":\"agent\",\"tags\":[\"a\",\"b\"],\"n\":-5,\"f\":0.25,\"ok\":true,\"none\":null,\"nested\":{\"deep\":[[1],[2,3]]}}";

        var back = Encoding.UTF8.GetString(MessagePackJsonTranscoder.ToJson(ToMessagePack(json)));

        Assert.Equal(json, back);
    }

    [Fact]
    public void ToMessagePack_InvalidJson_JsonException()
    {
        Assert.ThrowsAny<JsonException>(() => ToMessagePack("{\"a\":"));
    }
}
