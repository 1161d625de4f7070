namespace Aicp.SampleAgents.Labelling.Imaging;

/// <summary>
/// Turns caller bytes into 784 grey pixels. An input that starts with the PNG signature is decoded as a PNG;
/// otherwise it must be exactly 784 raw grey bytes, row-major, 0 = background (as in MNIST: white digit on black).
/// A 784-byte raw image whose first eight pixels happen to equal the PNG signature (137, 80, 78, 71, 13, 10, 26, 10)
/// would be read as a PNG; real digits have a blank top-left corner, so this does not arise in practice.
/// </summary>
internal static class ImageInput
{
    public const int Side = 28;
    public const int PixelCount = Side * Side;

    public static void ToPixels(ReadOnlySpan<byte> image, Span<byte> pixels)
    {
        if (PngDecoder.HasSignature(image))
        {
            PngDecoder.DecodeGrey(image, pixels, Side, Side);
            return;
        }

        if (image.Length == PixelCount)
        {
            image.CopyTo(pixels);
            return;
        }

        if (image.Length >= 4 && image.Length != PixelCount && image[0] == 0x89 && image[1] == (byte)'P' && image[2] == (byte)'N' && image[3] == (byte)'G')
        {
            throw new InvalidImageException(InvalidImageCodes.InvalidPngSignature, "input starts like a PNG but its 8-byte signature is damaged");
        }

        throw new InvalidImageException(
            InvalidImageCodes.InvalidImage,
            $"image is {image.Length} bytes; expected a PNG or exactly {PixelCount} raw grey bytes (28x28, row-major, 0 = background)");
    }

    /// <summary>Scales grey bytes to the network's input range [0, 1].</summary>
    public static void ToInput(ReadOnlySpan<byte> pixels, Span<float> input)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            input[i] = pixels[i] * (1f / 255f);
        }
    }
}
