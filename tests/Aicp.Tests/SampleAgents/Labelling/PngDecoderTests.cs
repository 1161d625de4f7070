using System.Buffers.Binary;
using System.Text;
using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Imaging;

namespace Aicp.Tests.SampleAgents.Labelling;

public class PngDecoderTests
{
    private const int Side = 28;

    public static TheoryData<int, int> ColourTypesAndFilters()
    {
        var data = new TheoryData<int, int>();
        foreach (int colorType in new[] { 0, 2, 4, 6 })
        {
            for (int filter = 0; filter <= 4; filter++) data.Add(colorType, filter);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ColourTypesAndFilters))]
    public void DecodeGrey_EachColourTypeAndFilter_MatchesExpectedGrey(int colorType, int filter)
    {
        (byte[] samples, byte[] expected) = Pattern(colorType);
        byte[] png = TestPng.Encode(Side, Side, colorType, samples, filter);

        var pixels = new byte[Side * Side];
        PngDecoder.DecodeGrey(png, pixels);

        Assert.Equal(expected, pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void DecodeGrey_DifferentFilterOnEveryRow_MatchesExpectedGrey(int colorType)
    {
        (byte[] samples, byte[] expected) = Pattern(colorType);
        byte[] png = TestPng.Encode(Side, Side, colorType, samples, y => (y * 3 + 1) % 5);

        var pixels = new byte[Side * Side];
        PngDecoder.DecodeGrey(png, pixels);

        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void DecodeGrey_IdatSplitAcrossChunksWithAncillaryChunk_Decodes()
    {
        (byte[] samples, byte[] expected) = Pattern(0);
        byte[] zlib = TestPng.Compress(TestPng.Filter(Side, Side, 1, samples, _ => 4));
        int half = zlib.Length / 2;
        byte[] png = TestPng.File(
            TestPng.Chunk("IHDR", TestPng.Ihdr(Side, Side, 8, 0)),
            TestPng.Chunk("tEXt", "Comment\0test"u8.ToArray()),
            TestPng.Chunk("IDAT", zlib[..half]),
            TestPng.Chunk("IDAT", zlib[half..]),
            TestPng.Chunk("IEND", []));

        var pixels = new byte[Side * Side];
        PngDecoder.DecodeGrey(png, pixels);

        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void TestEncoderCrc_KnownVector_IsStandardCheckValue()
    {
        // "123456789" -> 0xCBF43926 is the standard CRC-32 check value; the decoder tests above rely on this encoder.
        Assert.Equal(0xCBF43926u, TestPng.Crc("123456789"u8));
    }

    [Theory]
    [InlineData("IHDR")]
    [InlineData("IDAT")]
    [InlineData("IEND")]
    public void DecodeGrey_StoredChunkCrcOffByOneBit_RejectedAsChecksumMismatch(string chunk)
    {
        byte[] png = TestPng.Encode(Side, Side, 0, Pattern(0).Samples);
        png[CrcOffset(png, chunk)] ^= 0x01; // the chunk's data is intact; only its stored CRC is wrong

        var ex = Assert.Throws<InvalidImageException>(() => PngDecoder.DecodeGrey(png, new byte[Side * Side]));

        Assert.Equal(InvalidImageCodes.PngChecksumMismatch, ex.Code);
        Assert.Contains(chunk, ex.Message);
    }

    /// <summary>The offset of the last byte of the stored CRC of the first chunk of this type.</summary>
    private static int CrcOffset(byte[] png, string type)
    {
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            if (Encoding.ASCII.GetString(png, pos + 4, 4) == type)
            {
                return pos + 8 + length + 3;
            }
            pos += 12 + length;
        }
        throw new ArgumentException($"no {type} chunk", nameof(type));
    }

    /// <summary>Samples for a colour type whose filters all matter, and the grey the decoder must produce.</summary>
    internal static (byte[] Samples, byte[] ExpectedGrey) Pattern(int colorType)
    {
        int channels = TestPng.Channels(colorType);
        var samples = new byte[Side * Side * channels];
        var expected = new byte[Side * Side];
        for (int p = 0; p < Side * Side; p++)
        {
            int x = p % Side, y = p / Side;
            byte r = (byte)(x * 9 + y * 5), g = (byte)(x * 3 + y * 11 + 40), b = (byte)(x * y + 7), a = (byte)(255 - (x * 8 + y) % 256);
            int grey;
            switch (colorType)
            {
                case 0:
                    samples[p] = r;
                    grey = r;
                    break;
                case 4:
                    samples[2 * p] = r;
                    samples[2 * p + 1] = a;
                    grey = (r * a + 127) / 255;
                    break;
                case 2:
                    samples[3 * p] = r; samples[3 * p + 1] = g; samples[3 * p + 2] = b;
                    grey = (299 * r + 587 * g + 114 * b + 500) / 1000;
                    break;
                default:
                    samples[4 * p] = r; samples[4 * p + 1] = g; samples[4 * p + 2] = b; samples[4 * p + 3] = a;
                    grey = ((299 * r + 587 * g + 114 * b + 500) / 1000 * a + 127) / 255;
                    break;
            }
            expected[p] = (byte)grey;
        }
        return (samples, expected);
    }
}
