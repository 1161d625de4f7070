namespace Aicp.SampleAgents.Labelling;

/// <summary>
/// Thrown for every image the labeller cannot read. <see cref="Code"/> is one of the stable, machine-readable
/// values in <see cref="InvalidImageCodes"/>; <see cref="Exception.Message"/> is for people.
/// No other exception type escapes image decoding.
/// </summary>
public sealed class InvalidImageException : Exception
{
    public InvalidImageException(string code, string message, int? batchIndex = null, Exception? innerException = null)
        : base(batchIndex is { } i ? $"image {i}: {message}" : message, innerException)
    {
        Code = code;
        BatchIndex = batchIndex;
    }

    /// <summary>Machine-readable reason, one of <see cref="InvalidImageCodes"/>.</summary>
    public string Code { get; }

    /// <summary>Position of the offending image in a batch call; null for a single-image call.</summary>
    public int? BatchIndex { get; }

    internal InvalidImageException WithBatchIndex(int index) => new(Code, Message, index, InnerException);
}

/// <summary>The values of <see cref="InvalidImageException.Code"/>.</summary>
public static class InvalidImageCodes
{
    /// <summary>Neither a PNG nor exactly 784 raw grey bytes (includes an empty input).</summary>
    public const string InvalidImage = "invalid_image";

    /// <summary>The input was declared or looks like a PNG but its 8-byte signature is wrong.</summary>
    public const string InvalidPngSignature = "invalid_png_signature";

    /// <summary>A PNG chunk's CRC-32 does not match its type and data.</summary>
    public const string PngChecksumMismatch = "png_checksum_mismatch";

    /// <summary>Malformed PNG: truncated chunk, bad IHDR, missing IDAT/IEND, bad zlib stream, bad filter byte, wrong data length.</summary>
    public const string CorruptPng = "corrupt_png";

    /// <summary>A valid PNG this decoder does not handle: palette, bit depth other than 8, interlaced, unknown critical chunk.</summary>
    public const string UnsupportedPng = "unsupported_png";

    /// <summary>The image is not 28x28 pixels. Images are not resized.</summary>
    public const string WrongDimensions = "wrong_dimensions";
}
