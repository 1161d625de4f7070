using System.Buffers.Binary;
using System.Text.Json;
using Aicp.SampleAgents.Labelling.Imaging;

namespace Aicp.SampleAgents.Labelling.Data;

/// <summary>
/// MNIST digits as bytes: <see cref="Labels"/>[i] is the digit of image i and
/// <see cref="Pixels"/>[i*784 .. i*784+783] its 28x28 grey values (0 = background).
/// Images are ordered by class (all of 0.json, then 1.json, ...) and, within a class, in file order.
///
/// <para>Split (deterministic, disjoint, stratified): within each class, every 5th image — the ones at
/// per-class positions 4, 9, 14, ... — is held out for testing; the rest (80%) are for training.</para>
///
/// <para>Binary cache (little-endian): magic "AMNI", uint16 version 1, uint16 reserved, int32 count,
/// uint64 source fingerprint (sizes of the ten JSON files), count label bytes, count*784 pixel bytes.
/// The JSON's values in [0, 1] become <c>round(v * 255)</c>.</para>
/// </summary>
internal sealed class MnistDataset
{
    public const int ImageSize = ImageInput.PixelCount;
    public const int ClassCount = 10;
    public const int TestEvery = 5;
    public const string CacheFileName = "mnist-v1.bin";
    private const ushort CacheVersion = 1;
    private static ReadOnlySpan<byte> CacheMagic => "AMNI"u8;

    public MnistDataset(byte[] labels, byte[] pixels)
    {
        if (pixels.Length != labels.Length * ImageSize) throw new ArgumentException("Pixel count does not match label count.");
        Labels = labels;
        Pixels = pixels;
        (TrainIndices, TestIndices) = Split(labels);
    }

    public byte[] Labels { get; }

    public byte[] Pixels { get; }

    public int Count => Labels.Length;

    public int[] TrainIndices { get; }

    public int[] TestIndices { get; }

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>Loads the binary cache if it is current, otherwise converts the JSON and writes the cache.</summary>
    public static MnistDataset Load(string packageDirectory, string? cachePath = null)
    {
        cachePath ??= MnistLocator.DefaultCachePath(packageDirectory);
        ulong fingerprint = Fingerprint(packageDirectory);
        if (File.Exists(cachePath) && TryReadCache(File.ReadAllBytes(cachePath), fingerprint) is { } cached)
        {
            return cached;
        }

        MnistDataset dataset = FromJson(packageDirectory);
        WriteCache(dataset, cachePath, fingerprint);
        return dataset;
    }

    /// <summary>Parses 0.json .. 9.json (each <c>{"data": [v, v, ...]}</c>, 784 values per image in [0, 1]).</summary>
    public static MnistDataset FromJson(string packageDirectory)
    {
        string digits = MnistLocator.DigitsDirectory(packageDirectory);
        var labels = new List<byte>();
        var pixels = new List<byte>();
        for (int digit = 0; digit < ClassCount; digit++)
        {
            string path = Path.Combine(digits, $"{digit}.json");
            var reader = new Utf8JsonReader(File.ReadAllBytes(path));
            int values = 0;
            bool inData = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    inData = reader.ValueTextEquals("data"u8);
                }
                else if (inData && reader.TokenType == JsonTokenType.Number)
                {
                    double v = reader.GetDouble();
                    pixels.Add((byte)Math.Clamp(Math.Round(v * 255.0), 0, 255));
                    values++;
                }
            }
            if (values == 0 || values % ImageSize != 0)
            {
                throw new InvalidDataException($"{path}: {values} values is not a positive multiple of {ImageSize}.");
            }
            for (int i = 0; i < values / ImageSize; i++) labels.Add((byte)digit);
        }
        return new MnistDataset(labels.ToArray(), pixels.ToArray());
    }

    public byte[] SerializeCache(ulong fingerprint)
    {
        var buffer = new byte[20 + Count + Pixels.Length];
        CacheMagic.CopyTo(buffer);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), CacheVersion);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(8), Count);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(12), fingerprint);
        Labels.CopyTo(buffer, 20);
        Pixels.CopyTo(buffer, 20 + Count);
        return buffer;
    }

    public static MnistDataset? TryReadCache(ReadOnlySpan<byte> data, ulong fingerprint)
    {
        if (data.Length < 20 || !data.StartsWith(CacheMagic)
            || BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != CacheVersion
            || BinaryPrimitives.ReadUInt64LittleEndian(data[12..]) != fingerprint)
        {
            return null;
        }
        int count = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        if (count <= 0 || data.Length != 20 + (long)count * (1 + ImageSize))
        {
            return null;
        }
        byte[] labels = data.Slice(20, count).ToArray();
        if (labels.Any(l => l >= ClassCount)) return null;
        return new MnistDataset(labels, data[(20 + count)..].ToArray());
    }

    /// <summary>Identifies the JSON source by the sizes of its ten files, so a changed package rebuilds the cache.</summary>
    public static ulong Fingerprint(string packageDirectory)
    {
        ulong hash = 14695981039346656037UL; // FNV-1a over the file lengths
        for (int digit = 0; digit < ClassCount; digit++)
        {
            long length = new FileInfo(Path.Combine(MnistLocator.DigitsDirectory(packageDirectory), $"{digit}.json")).Length;
            hash = (hash ^ (ulong)length) * 1099511628211UL;
        }
        return hash;
    }

    private static void WriteCache(MnistDataset dataset, string cachePath, ulong fingerprint)
    {
        string full = Path.GetFullPath(cachePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Write then rename, so concurrent test processes never read a half-written cache.
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, dataset.SerializeCache(fingerprint));
        File.Move(temp, full, overwrite: true);
    }

    private static (int[] Train, int[] Test) Split(byte[] labels)
    {
        var seen = new int[ClassCount];
        var train = new List<int>(labels.Length);
        var test = new List<int>(labels.Length / TestEvery + ClassCount);
        for (int i = 0; i < labels.Length; i++)
        {
            int positionInClass = seen[labels[i]]++;
            (positionInClass % TestEvery == TestEvery - 1 ? test : train).Add(i);
        }
        return (train.ToArray(), test.ToArray());
    }
}
