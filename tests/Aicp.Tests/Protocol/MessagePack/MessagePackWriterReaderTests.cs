using Aicp.Protocol.MessagePack;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

public class MessagePackWriterReaderTests
{
    public static TheoryData<long, byte[]> SignedBoundaries => new()
    {
        { 0, Bytes(0x00) },
        { 127, Bytes(0x7f) },
        { 128, Bytes(0xcc, 0x80) },
        { 255, Bytes(0xcc, 0xff) },
        { 256, Bytes(0xcd, 0x01, 0x00) },
        { 65535, Bytes(0xcd, 0xff, 0xff) },
        { 65536, Bytes(0xce, 0x00, 0x01, 0x00, 0x00) },
        { uint.MaxValue, Bytes(0xce, 0xff, 0xff, 0xff, 0xff) },
        { (long)uint.MaxValue + 1, Bytes(0xcf, 0, 0, 0, 1, 0, 0, 0, 0) },
        { long.MaxValue, Bytes(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) },
        { -1, Bytes(0xff) },
        { -32, Bytes(0xe0) },
        { -33, Bytes(0xd0, 0xdf) },
        { -128, Bytes(0xd0, 0x80) },
        { -129, Bytes(0xd1, 0xff, 0x7f) },
        { -32768, Bytes(0xd1, 0x80, 0x00) },
        { -32769, Bytes(0xd2, 0xff, 0xff, 0x7f, 0xff) },
        { int.MinValue, Bytes(0xd2, 0x80, 0x00, 0x00, 0x00) },
        { (long)int.MinValue - 1, Bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff) },
        { long.MinValue, Bytes(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0) },
    };

    [Theory]
    [MemberData(nameof(SignedBoundaries))]
    public void WriteInt64_Boundary_SmallestFormAndRoundTrips(long value, byte[] expected)
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write(value));

        Assert.Equal(expected, bytes);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.Integer, reader.NextType);
        Assert.Equal(value, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Fact]
    public void WriteUInt64_MaxValue_UInt64FormatAndRoundTrips()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write(ulong.MaxValue));

        Assert.Equal(Bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), bytes);
        Assert.Equal(ulong.MaxValue, new MessagePackReader(bytes).ReadUInt64());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadInt64());
    }

    [Theory]
    [InlineData(new byte[] { 0xd0, 0x05 }, 5)]             // int8 holding a positive value
    [InlineData(new byte[] { 0xd1, 0x00, 0x05 }, 5)]       // int16, non-minimal
    [InlineData(new byte[] { 0xd2, 0x00, 0x00, 0x00, 0x05 }, 5)]
    [InlineData(new byte[] { 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x05 }, 5)]
    [InlineData(new byte[] { 0xcc, 0x05 }, 5)]
    [InlineData(new byte[] { 0xcd, 0x00, 0x05 }, 5)]
    [InlineData(new byte[] { 0xce, 0, 0, 0, 0x05 }, 5)]
    [InlineData(new byte[] { 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05 }, 5)]
    public void ReadInt64_NonMinimalForms_Accepted(byte[] bytes, long expected)
    {
        var reader = new MessagePackReader(bytes);
        Assert.Equal(expected, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Fact]
    public void ReadUInt64_NegativeValue_Throws()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xff)).ReadUInt64());
    }

    [Fact]
    public void ReadInt32_ValueAboveInt32_Throws()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write((long)int.MaxValue + 1));
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadInt32());
    }

    [Fact]
    public void WriteSingle_Value_Float32FormatAndRoundTrips()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write(1.5f));

        Assert.Equal(Bytes(0xca, 0x3f, 0xc0, 0x00, 0x00), bytes);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.Float, reader.NextType);
        Assert.Equal(1.5f, reader.ReadSingle());
    }

    [Fact]
    public void WriteDouble_Value_Float64FormatAndRoundTrips()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write(-0.1));

        Assert.Equal(9, bytes.Length);
        Assert.Equal(0xcb, bytes[0]);
        Assert.Equal(-0.1, new MessagePackReader(bytes).ReadDouble());
        Assert.Equal(double.PositiveInfinity, new MessagePackReader(Write((ref MessagePackWriter w) => w.Write(double.PositiveInfinity))).ReadDouble());
    }

    [Fact]
    public void ReadDouble_Integer_Converted()
    {
        Assert.Equal(-33.0, new MessagePackReader(Bytes(0xd0, 0xdf)).ReadDouble());
    }

    [Fact]
    public void WriteNilAndBoolean_Values_SpecBytes()
    {
        var bytes = Write((ref MessagePackWriter w) =>
        {
            w.WriteNil();
            w.Write(true);
            w.Write(false);
        });

        Assert.Equal(Bytes(0xc0, 0xc3, 0xc2), bytes);
        var reader = new MessagePackReader(bytes);
        Assert.True(reader.TryReadNil());
        Assert.False(reader.TryReadNil());
        Assert.True(reader.ReadBoolean());
        Assert.False(reader.ReadBoolean());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(0, new byte[] { 0xa0 })]
    [InlineData(31, new byte[] { 0xbf })]
    [InlineData(32, new byte[] { 0xd9, 32 })]
    [InlineData(255, new byte[] { 0xd9, 0xff })]
    [InlineData(256, new byte[] { 0xda, 0x01, 0x00 })]
    [InlineData(65535, new byte[] { 0xda, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0xdb, 0x00, 0x01, 0x00, 0x00 })]
    public void WriteString_Length_SmallestHeaderAndRoundTrips(int length, byte[] expectedHeader)
    {
        var text = new string('x', length);
        var bytes = Write((ref MessagePackWriter w) => w.Write(text));

        Assert.Equal(expectedHeader, bytes[..expectedHeader.Length]);
        Assert.Equal(expectedHeader.Length + length, bytes.Length);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.String, reader.NextType);
        Assert.Equal(text, reader.ReadString());
        Assert.True(reader.End);
    }

    [Fact]
    public void WriteString_NonAscii_CountsUtf8Bytes()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write("é€"));

        Assert.Equal(Bytes(0xa5, 0xc3, 0xa9, 0xe2, 0x82, 0xac), bytes);
        Assert.Equal("é€", new MessagePackReader(bytes).ReadString());
    }

    [Fact]
    public void WriteString_Null_WritesNil()
    {
        var bytes = Write((ref MessagePackWriter w) => w.Write((string?)null));

        Assert.Equal(Bytes(0xc0), bytes);
        Assert.Null(new MessagePackReader(bytes).ReadString());
    }

    [Theory]
    [InlineData(0, new byte[] { 0xc4, 0x00 })]
    [InlineData(255, new byte[] { 0xc4, 0xff })]
    [InlineData(256, new byte[] { 0xc5, 0x01, 0x00 })]
    [InlineData(65535, new byte[] { 0xc5, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0xc6, 0x00, 0x01, 0x00, 0x00 })]
    public void WriteBinary_Length_SmallestHeaderAndRoundTrips(int length, byte[] expectedHeader)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var bytes = Write((ref MessagePackWriter w) => w.WriteBinary(data));

        Assert.Equal(expectedHeader, bytes[..expectedHeader.Length]);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.Binary, reader.NextType);
        Assert.Equal(data, reader.ReadBinary().ToArray());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(0, new byte[] { 0x90 })]
    [InlineData(15, new byte[] { 0x9f })]
    [InlineData(16, new byte[] { 0xdc, 0x00, 0x10 })]
    [InlineData(65535, new byte[] { 0xdc, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0xdd, 0x00, 0x01, 0x00, 0x00 })]
    public void WriteArrayHeader_Count_SmallestFormAndRoundTrips(int count, byte[] expectedHeader)
    {
        var bytes = Write((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(count);
            for (var i = 0; i < count; i++)
            {
                w.WriteNil();
            }
        });

        Assert.Equal(expectedHeader, bytes[..expectedHeader.Length]);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(count, reader.ReadArrayHeader());
    }

    [Theory]
    [InlineData(0, new byte[] { 0x80 })]
    [InlineData(15, new byte[] { 0x8f })]
    [InlineData(16, new byte[] { 0xde, 0x00, 0x10 })]
    [InlineData(65536, new byte[] { 0xdf, 0x00, 0x01, 0x00, 0x00 })]
    public void WriteMapHeader_Count_SmallestFormAndRoundTrips(int count, byte[] expectedHeader)
    {
        var bytes = Write((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(count);
            for (var i = 0; i < count; i++)
            {
                w.Write(i);
                w.WriteNil();
            }
        });

        Assert.Equal(expectedHeader, bytes[..expectedHeader.Length]);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(count, reader.ReadMapHeader());
        reader = new MessagePackReader(bytes);
        reader.Skip();
        Assert.True(reader.End);
    }

    [Fact]
    public void NestedArraysAndMaps_RoundTrip_ReadBackInOrder()
    {
        // {"a": [1, [true, nil]], "b": {}}
        var bytes = Write((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            w.Write("a");
            w.WriteArrayHeader(2);
            w.Write(1);
            w.WriteArrayHeader(2);
            w.Write(true);
            w.WriteNil();
            w.Write("b");
            w.WriteMapHeader(0);
        });

        Assert.Equal(Bytes(0x82, 0xa1, 0x61, 0x92, 0x01, 0x92, 0xc3, 0xc0, 0xa1, 0x62, 0x80), bytes);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(2, reader.ReadMapHeader());
        Assert.Equal("a", reader.ReadString());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.True(reader.ReadBoolean());
        reader.ReadNil();
        Assert.Equal("b", reader.ReadString());
        Assert.Equal(0, reader.ReadMapHeader());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(1, 0xd4)]
    [InlineData(2, 0xd5)]
    [InlineData(4, 0xd6)]
    [InlineData(8, 0xd7)]
    [InlineData(16, 0xd8)]
    public void WriteExtension_FixedLength_FixExtForm(int length, int expectedCode)
    {
        var data = Enumerable.Repeat((byte)0xab, length).ToArray();
        var bytes = Write((ref MessagePackWriter w) => w.WriteExtension(5, data));

        Assert.Equal(Bytes(expectedCode, 0x05), bytes[..2]);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.Extension, reader.NextType);
        Assert.Equal(data, reader.ReadExtension(out var type).ToArray());
        Assert.Equal(5, type);
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(3, new byte[] { 0xc7, 0x03, 0x07 })]
    [InlineData(255, new byte[] { 0xc7, 0xff, 0x07 })]
    [InlineData(256, new byte[] { 0xc8, 0x01, 0x00, 0x07 })]
    [InlineData(65536, new byte[] { 0xc9, 0x00, 0x01, 0x00, 0x00, 0x07 })]
    public void WriteExtension_OtherLength_ExtNForm(int length, byte[] expectedHeader)
    {
        var data = new byte[length];
        var bytes = Write((ref MessagePackWriter w) => w.WriteExtension(7, data));

        Assert.Equal(expectedHeader, bytes[..expectedHeader.Length]);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(length, reader.ReadExtension(out var type).Length);
        Assert.Equal(7, type);
    }

    [Fact]
    public void WriteTimestamp_NoNanosAndFits32Bits_Timestamp32()
    {
        var bytes = Write((ref MessagePackWriter w) => w.WriteTimestamp(1_700_000_000, 0));

        Assert.Equal(Bytes(0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00), bytes);
        new MessagePackReader(bytes).ReadTimestamp(out var seconds, out var nanos);
        Assert.Equal(1_700_000_000, seconds);
        Assert.Equal(0u, nanos);
    }

    [Fact]
    public void WriteTimestamp_Nanoseconds_Timestamp64()
    {
        var bytes = Write((ref MessagePackWriter w) => w.WriteTimestamp(1, 5));

        // nanoseconds in the upper 30 bits, seconds in the lower 34: (5 << 34) | 1
        Assert.Equal(Bytes(0xd7, 0xff, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01), bytes);
        new MessagePackReader(bytes).ReadTimestamp(out var seconds, out var nanos);
        Assert.Equal(1, seconds);
        Assert.Equal(5u, nanos);
    }

    [Fact]
    public void WriteTimestamp_SecondsAbove32BitsWithoutNanos_Timestamp64()
    {
        var bytes = Write((ref MessagePackWriter w) => w.WriteTimestamp((long)uint.MaxValue + 1, 0));

        Assert.Equal(0xd7, bytes[0]);
        new MessagePackReader(bytes).ReadTimestamp(out var seconds, out _);
        Assert.Equal((long)uint.MaxValue + 1, seconds);
    }

    [Theory]
    [InlineData(-1L, 0u)]
    [InlineData(1L << 34, 999_999_999u)]
    public void WriteTimestamp_NegativeOrBeyond34Bits_Timestamp96(long seconds, uint nanos)
    {
        var bytes = Write((ref MessagePackWriter w) => w.WriteTimestamp(seconds, nanos));

        Assert.Equal(Bytes(0xc7, 0x0c, 0xff), bytes[..3]);
        Assert.Equal(15, bytes.Length);
        new MessagePackReader(bytes).ReadTimestamp(out var readSeconds, out var readNanos);
        Assert.Equal(seconds, readSeconds);
        Assert.Equal(nanos, readNanos);
    }

    [Fact]
    public void WriteDateTime_Utc_RoundTripsToTicks()
    {
        var value = new DateTime(2024, 2, 29, 12, 34, 56, DateTimeKind.Utc).AddTicks(1234567);
        var bytes = Write((ref MessagePackWriter w) => w.Write(value));

        var read = new MessagePackReader(bytes).ReadDateTime();
        Assert.Equal(value, read);
        Assert.Equal(DateTimeKind.Utc, read.Kind);
    }

    [Fact]
    public void WriteDateTime_BeforeEpoch_RoundTrips()
    {
        var value = new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(5);
        var bytes = Write((ref MessagePackWriter w) => w.Write(value));

        Assert.Equal(value, new MessagePackReader(bytes).ReadDateTime());
    }

    [Fact]
    public void ReadTimestamp_NanosecondsOutOfRange_Throws()
    {
        // timestamp 96 with nanoseconds = 1e9
        var bytes = Bytes(0xc7, 0x0c, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0);
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadTimestamp(out _, out _));
    }

    [Fact]
    public void ReadRaw_Value_ReturnsItsExactBytes()
    {
        var bytes = Bytes(0x92, 0x01, 0xa1, 0x78, 0x2a);
        var reader = new MessagePackReader(bytes);
        Assert.Equal(bytes[..4], reader.ReadRaw().ToArray());
        Assert.Equal(42, reader.ReadInt32());
    }
}
