using System.Diagnostics;
using Aicp.Protocol.MessagePack;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

public class MessagePackReaderSafetyTests
{
    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xcc })]
    [InlineData(new byte[] { 0xcd, 0x01 })]
    [InlineData(new byte[] { 0xd3, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0xcb, 0, 0 })]
    [InlineData(new byte[] { 0xa3, 0x78, 0x79 })]
    [InlineData(new byte[] { 0xda, 0x00 })]
    [InlineData(new byte[] { 0xc4, 0x05, 1, 2 })]
    [InlineData(new byte[] { 0xd6, 0xff, 0, 0 })]
    [InlineData(new byte[] { 0x92, 0x01 })]
    [InlineData(new byte[] { 0x81, 0xa1, 0x61 })]
    public void Skip_TruncatedData_ThrowsFormatException(byte[] bytes)
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).Skip());
    }

    [Fact]
    public void ReadString_Str32ClaimingFourGigabytes_ThrowsWithoutAllocating()
    {
        var bytes = Bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadString());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("4294967295", ex.Message);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(new byte[] { 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0 })] // array32 of 4 billion
    [InlineData(new byte[] { 0xdc, 0x00, 0x03, 0xc0, 0xc0 })]       // array16 of 3, 2 bytes left
    public void ReadArrayHeader_CountAboveRemainingBytes_Throws(byte[] bytes)
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadArrayHeader());
    }

    [Theory]
    [InlineData(new byte[] { 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0, 0xc0 })]
    [InlineData(new byte[] { 0x82, 0xc0, 0xc0, 0xc0 })] // two entries need at least four bytes
    public void ReadMapHeader_CountAboveRemainingBytes_Throws(byte[] bytes)
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).ReadMapHeader());
    }

    [Fact]
    public void ReadExtension_Ext32ClaimingMoreThanPresent_Throws()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x00)).ReadExtension(out _));
    }

    [Fact]
    public void Skip_TenThousandNestedArrays_ThrowsFormatExceptionQuickly()
    {
        var bytes = Enumerable.Repeat((byte)0x91, 10_000).Append((byte)0xc0).ToArray();

        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).Skip());
        watch.Stop();

        Assert.Contains("deeper than the limit of 64", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Skip_NestingAtLimit_Succeeds()
    {
        var bytes = Enumerable.Repeat((byte)0x91, 64).Append((byte)0xc0).ToArray();
        var reader = new MessagePackReader(bytes);

        reader.Skip();

        Assert.True(reader.End);
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes, maxDepth: 63).Skip());
    }

    [Fact]
    public void Skip_DeeplyNestedMaps_ThrowsFormatException()
    {
        // {"": {"": {"": ...}}} 1,000 levels
        var bytes = Enumerable.Range(0, 1000).SelectMany(_ => new byte[] { 0x81, 0xa0 }).Append((byte)0xc0).ToArray();
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(bytes).Skip());
    }

    [Fact]
    public void NextType_NeverUsedFormatByte_Throws()
    {
        var ex = Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xc1)).NextType);
        Assert.Contains("0xc1", ex.Message);
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xc1)).Skip());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xc1)).ReadInt64());
    }

    [Fact]
    public void ReadInt64_StringValue_ThrowsWrongType()
    {
        var ex = Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xa1, 0x61)).ReadInt64());
        Assert.Contains("Expected an integer but found String", ex.Message);
    }

    [Fact]
    public void ReadString_Integer_ThrowsWrongType()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0x01)).ReadString());
    }

    [Fact]
    public void ReadBoolean_Nil_ThrowsWrongType()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xc0)).ReadBoolean());
    }

    [Fact]
    public void ReadArrayHeader_Map_ThrowsWrongType()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0x80)).ReadArrayHeader());
    }

    [Fact]
    public void ReadString_InvalidUtf8_Throws()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xa2, 0xc3, 0x28)).ReadString());
    }

    [Fact]
    public void ReadTimestamp_OtherExtensionType_Throws()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xd6, 0x01, 0, 0, 0, 0)).ReadTimestamp(out _, out _));
    }

    [Fact]
    public void ReadTimestamp_WrongDataLength_Throws()
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Bytes(0xd5, 0xff, 0, 0)).ReadTimestamp(out _, out _));
    }
}
