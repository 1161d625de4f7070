using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Aicp.SampleAgents.Labelling.Imaging;

/// <summary>
/// Minimal PNG reader for 28x28 digit images: 8-bit greyscale, grey+alpha, RGB and RGBA, non-interlaced,
/// all five filter types. Every chunk CRC is checked with System.IO.Hashing's <see cref="Crc32"/>; the zlib stream
/// (including its Adler-32) is inflated with the in-box <see cref="ZLibStream"/>. Colour is reduced to grey with Rec. 601 luma
/// ((299 R + 587 G + 114 B) / 1000); alpha is composited over a black (0 = background) canvas.
/// Other sizes are rejected, not resized: resampling a digit changes its stroke width and centring,
/// which the model was not trained for, so a caller is better told than silently given a poor answer.
/// Ancillary chunks (gAMA, tRNS, tEXt, ...) are ignored.
/// </summary>
internal static class PngDecoder
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool HasSignature(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>Decodes <paramref name="png"/> into 28x28 grey bytes written to <paramref name="pixels"/>.</summary>
    /// <exception cref="InvalidImageException">For any input that is not a supported 28x28 PNG.</exception>
    public static void DecodeGrey(ReadOnlySpan<byte> png, Span<byte> pixels, int width = 28, int height = 28)
    {
        if (pixels.Length < width * height)
        {
            throw new ArgumentException("Destination too small.", nameof(pixels));
        }

        try
        {
            DecodeCore(png, pixels, width, height);
        }
        catch (InvalidImageException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Belt and braces: whatever a malformed stream provokes surfaces as the typed exception.
            throw new InvalidImageException(InvalidImageCodes.CorruptPng, $"PNG could not be decoded: {ex.Message}", innerException: ex);
        }
    }

    private static void DecodeCore(ReadOnlySpan<byte> png, Span<byte> pixels, int expectedWidth, int expectedHeight)
    {
        if (!HasSignature(png))
        {
            throw Invalid(InvalidImageCodes.InvalidPngSignature, "input does not start with the 8-byte PNG signature");
        }

        int pos = Signature.Length;
        bool seenHeader = false, seenEnd = false;
        int channels = 0;
        using var idat = new MemoryStream();

        while (!seenEnd)
        {
            if (png.Length - pos < 12)
            {
                throw Invalid(InvalidImageCodes.CorruptPng, "PNG is truncated (missing IEND chunk)");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || length > (uint)(png.Length - pos - 12))
            {
                throw Invalid(InvalidImageCodes.CorruptPng, $"PNG chunk at offset {pos} is truncated");
            }

            ReadOnlySpan<byte> typeAndData = png.Slice(pos + 4, 4 + (int)length);
            ReadOnlySpan<byte> type = typeAndData[..4];
            ReadOnlySpan<byte> data = typeAndData[4..];
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (Crc32.HashToUInt32(typeAndData) != storedCrc)
            {
                throw Invalid(InvalidImageCodes.PngChecksumMismatch, $"CRC mismatch in PNG chunk '{ChunkName(type)}'");
            }
            pos += 12 + (int)length;

            if (!seenHeader)
            {
                if (!type.SequenceEqual("IHDR"u8))
                {
                    throw Invalid(InvalidImageCodes.CorruptPng, "first PNG chunk is not IHDR");
                }
                channels = ReadHeader(data, expectedWidth, expectedHeight);
                seenHeader = true;
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(data);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                seenEnd = true;
            }
            else if (type.SequenceEqual("IHDR"u8))
            {
                throw Invalid(InvalidImageCodes.CorruptPng, "duplicate IHDR chunk");
            }
            else if ((type[0] & 0x20) == 0 && !type.SequenceEqual("PLTE"u8))
            {
                // Upper-case first letter = critical chunk we do not understand.
                throw Invalid(InvalidImageCodes.UnsupportedPng, $"unsupported critical PNG chunk '{ChunkName(type)}'");
            }
        }

        if (idat.Length == 0)
        {
            throw Invalid(InvalidImageCodes.CorruptPng, "PNG has no IDAT data");
        }

        int stride = expectedWidth * channels;
        byte[] raw = Inflate(idat, expectedHeight * (stride + 1));
        Unfilter(raw, expectedHeight, stride, channels);
        ToGrey(raw, expectedWidth, expectedHeight, channels, pixels);
    }

    /// <summary>Validates IHDR and returns the number of 8-bit channels per pixel.</summary>
    private static int ReadHeader(ReadOnlySpan<byte> ihdr, int expectedWidth, int expectedHeight)
    {
        if (ihdr.Length != 13)
        {
            throw Invalid(InvalidImageCodes.CorruptPng, $"IHDR has length {ihdr.Length}, expected 13");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        byte bitDepth = ihdr[8], colorType = ihdr[9], compression = ihdr[10], filter = ihdr[11], interlace = ihdr[12];

        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
        {
            throw Invalid(InvalidImageCodes.CorruptPng, $"invalid PNG dimensions {width}x{height}");
        }
        if (compression != 0 || filter != 0 || interlace > 1)
        {
            throw Invalid(InvalidImageCodes.CorruptPng, "invalid IHDR compression, filter or interlace method");
        }

        int channels = colorType switch
        {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            3 => throw Invalid(InvalidImageCodes.UnsupportedPng, "palette PNGs (colour type 3) are not supported"),
            _ => throw Invalid(InvalidImageCodes.CorruptPng, $"invalid PNG colour type {colorType}"),
        };

        if (bitDepth != 8)
        {
            bool valid = colorType == 0 ? bitDepth is 1 or 2 or 4 or 16 : bitDepth == 16;
            throw Invalid(
                valid ? InvalidImageCodes.UnsupportedPng : InvalidImageCodes.CorruptPng,
                $"PNG bit depth {bitDepth} is {(valid ? "not supported (only 8)" : "invalid")}");
        }
        if (interlace == 1)
        {
            throw Invalid(InvalidImageCodes.UnsupportedPng, "interlaced (Adam7) PNGs are not supported");
        }
        if (width != expectedWidth || height != expectedHeight)
        {
            throw Invalid(
                InvalidImageCodes.WrongDimensions,
                $"image is {width}x{height}; the labeller needs exactly {expectedWidth}x{expectedHeight} (images are not resized)");
        }

        return channels;
    }

    private static byte[] Inflate(MemoryStream compressed, int expectedLength)
    {
        compressed.Position = 0;
        var raw = new byte[expectedLength];
        try
        {
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            int read = zlib.ReadAtLeast(raw, expectedLength, throwOnEndOfStream: false);
            if (read < expectedLength)
            {
                throw Invalid(InvalidImageCodes.CorruptPng, $"PNG image data is {read} bytes, expected {expectedLength}");
            }
            // Reading past the end makes the inflater finish the stream and verify its Adler-32.
            Span<byte> extra = stackalloc byte[1];
            if (zlib.Read(extra) != 0)
            {
                throw Invalid(InvalidImageCodes.CorruptPng, $"PNG image data is longer than the expected {expectedLength} bytes");
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidImageException(InvalidImageCodes.CorruptPng, $"PNG zlib data is invalid: {ex.Message}", innerException: ex);
        }
        return raw;
    }

    /// <summary>Reverses the per-scanline filters in place. Each row is one filter byte followed by <paramref name="stride"/> bytes.</summary>
    private static void Unfilter(byte[] raw, int height, int stride, int bpp)
    {
        int rowLength = stride + 1;
        for (int y = 0; y < height; y++)
        {
            int rowStart = y * rowLength;
            byte filter = raw[rowStart];
            Span<byte> row = raw.AsSpan(rowStart + 1, stride);
            ReadOnlySpan<byte> prior = y == 0 ? default : raw.AsSpan(rowStart - stride, stride);

            switch (filter)
            {
                case 0:
                    break;
                case 1: // Sub
                    for (int i = bpp; i < stride; i++) row[i] += row[i - bpp];
                    break;
                case 2: // Up
                    if (y > 0) for (int i = 0; i < stride; i++) row[i] += prior[i];
                    break;
                case 3: // Average
                    for (int i = 0; i < stride; i++)
                    {
                        int left = i >= bpp ? row[i - bpp] : 0;
                        int up = y > 0 ? prior[i] : 0;
                        row[i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4: // Paeth
                    for (int i = 0; i < stride; i++)
                    {
                        int left = i >= bpp ? row[i - bpp] : 0;
                        int up = y > 0 ? prior[i] : 0;
                        int upLeft = i >= bpp && y > 0 ? prior[i - bpp] : 0;
                        row[i] += Paeth(left, up, upLeft);
                    }
                    break;
                default:
                    throw Invalid(InvalidImageCodes.CorruptPng, $"invalid PNG filter type {filter} on row {y}");
            }
        }
    }

    private static byte Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }

    private static void ToGrey(byte[] raw, int width, int height, int channels, Span<byte> pixels)
    {
        int stride = width * channels;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = raw.AsSpan(y * (stride + 1) + 1, stride);
            for (int x = 0; x < width; x++)
            {
                ReadOnlySpan<byte> px = row.Slice(x * channels, channels);
                int grey = channels switch
                {
                    1 or 2 => px[0],
                    _ => (299 * px[0] + 587 * px[1] + 114 * px[2] + 500) / 1000,
                };
                if (channels is 2 or 4)
                {
                    int alpha = px[channels - 1];
                    grey = (grey * alpha + 127) / 255;
                }
                pixels[y * width + x] = (byte)grey;
            }
        }
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++) chars[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        return new string(chars);
    }

    private static InvalidImageException Invalid(string code, string message) => new(code, message);
}
