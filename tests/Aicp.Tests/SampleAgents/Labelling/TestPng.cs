using System.Buffers.Binary;
using System.IO.Compression;

namespace Aicp.Tests.SampleAgents.Labelling;

/// <summary>
/// A tiny PNG encoder for tests, written independently of the decoder under test: own CRC-32, zlib via
/// <see cref="ZLibStream"/>, every filter type, and hooks to build deliberately broken files.
/// </summary>
internal static class TestPng
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static int Channels(int colorType) => colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, 3 => 1, _ => throw new ArgumentOutOfRangeException(nameof(colorType)) };

    /// <summary>Encodes interleaved 8-bit samples, filtering row y with <c>filterFor(y)</c>.</summary>
    public static byte[] Encode(int width, int height, int colorType, byte[] samples, Func<int, int> filterFor, byte bitDepth = 8, byte interlace = 0)
    {
        byte[] scanlines = Filter(width, height, Channels(colorType), samples, filterFor);
        return Assemble(Ihdr(width, height, bitDepth, (byte)colorType, interlace), Compress(scanlines));
    }

    public static byte[] Encode(int width, int height, int colorType, byte[] samples, int filter = 0) =>
        Encode(width, height, colorType, samples, _ => filter);

    public static byte[] Ihdr(int width, int height, byte bitDepth, byte colorType, byte interlace = 0)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(data, width);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colorType;
        data[12] = interlace;
        return data;
    }

    public static byte[] Assemble(byte[] ihdr, byte[] idat) =>
        File(Chunk("IHDR", ihdr), Chunk("IDAT", idat), Chunk("IEND", []));

    public static byte[] File(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    public static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Compress(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>Prefixes each row with its filter byte and applies that filter (PNG spec section 9).</summary>
    public static byte[] Filter(int width, int height, int bpp, byte[] samples, Func<int, int> filterFor)
    {
        int stride = width * bpp;
        var output = new byte[height * (stride + 1)];
        for (int y = 0; y < height; y++)
        {
            int filter = filterFor(y);
            output[y * (stride + 1)] = (byte)filter;
            for (int i = 0; i < stride; i++)
            {
                int raw = samples[y * stride + i];
                int left = i >= bpp ? samples[y * stride + i - bpp] : 0;
                int up = y > 0 ? samples[(y - 1) * stride + i] : 0;
                int upLeft = i >= bpp && y > 0 ? samples[(y - 1) * stride + i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => 0, // invalid filter types are written unfiltered, for negative tests
                };
                output[y * (stride + 1) + 1 + i] = (byte)(raw - predictor);
            }
        }
        return output;
    }

    public static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (uint)-(int)(c & 1));
        }
        return ~c;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
