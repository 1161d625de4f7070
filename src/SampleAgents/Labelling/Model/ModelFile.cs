using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Aicp.SampleAgents.Labelling.Model;

/// <summary>
/// The versioned weights file. Little-endian throughout:
/// <code>
/// offset  size        field
/// 0       4           magic "AMLP"
/// 4       2           format version (1)
/// 6       1           element type: 1 = float32, 2 = float16 (IEEE half)
/// 7       1           L = number of weight layers (1..16)
/// 8       4*(L+1)     layer widths, int32 (e.g. 784, 256, 10)
/// ...     per layer   weights [out*in] row-major, then biases [out], in the element type
/// end-4   4           CRC-32 (zlib polynomial) of every preceding byte
/// </code>
/// A reader rejects any other magic, version or element type, widths outside 1..65536, a size that does not
/// match the widths exactly, and a CRC mismatch.
/// </summary>
internal static class ModelFile
{
    public const ushort FormatVersion = 1;
    public const byte Float32 = 1;
    public const byte Float16 = 2;
    private static ReadOnlySpan<byte> Magic => "AMLP"u8;

    public static byte[] Serialize(MlpModel model, byte elementType = Float16)
    {
        if (elementType is not (Float32 or Float16)) throw new ArgumentOutOfRangeException(nameof(elementType));
        int elementSize = elementType == Float32 ? 4 : 2;
        int headerLength = 8 + 4 * model.Dims.Length;
        long payload = model.ParameterCount * elementSize;
        var buffer = new byte[headerLength + payload + 4];
        Span<byte> span = buffer;

        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], FormatVersion);
        span[6] = elementType;
        span[7] = (byte)model.LayerCount;
        for (int i = 0; i < model.Dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(8 + 4 * i)..], model.Dims[i]);
        }

        int pos = headerLength;
        for (int l = 0; l < model.LayerCount; l++)
        {
            pos = WriteValues(span, pos, model.Weights[l], elementType);
            pos = WriteValues(span, pos, model.Biases[l], elementType);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[pos..], Crc32.HashToUInt32(span[..pos]));
        return buffer;
    }

    public static void Write(string path, MlpModel model, byte elementType = Float16)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, Serialize(model, elementType));
    }

    public static MlpModel Read(string path) => Deserialize(File.ReadAllBytes(path));

    /// <exception cref="InvalidDataException">The bytes are not a valid weights file.</exception>
    public static MlpModel Deserialize(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12 || !data.StartsWith(Magic))
        {
            throw new InvalidDataException("Not an AMLP weights file (bad magic).");
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unsupported weights format version {version} (this build reads {FormatVersion}).");
        }
        byte elementType = data[6];
        if (elementType is not (Float32 or Float16))
        {
            throw new InvalidDataException($"Unknown element type {elementType} in weights file.");
        }
        int layers = data[7];
        if (layers is < 1 or > 16)
        {
            throw new InvalidDataException($"Invalid layer count {layers} in weights file.");
        }
        int headerLength = 8 + 4 * (layers + 1);
        if (data.Length < headerLength + 4)
        {
            throw new InvalidDataException("Weights file is truncated.");
        }

        var dims = new int[layers + 1];
        long parameters = 0;
        for (int i = 0; i <= layers; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(8 + 4 * i)..]);
            if (dims[i] is < 1 or > 65536) throw new InvalidDataException($"Invalid layer width {dims[i]} in weights file.");
            if (i > 0) parameters += (long)dims[i - 1] * dims[i] + dims[i];
        }
        int elementSize = elementType == Float32 ? 4 : 2;
        long expected = headerLength + parameters * elementSize + 4;
        if (data.Length != expected)
        {
            throw new InvalidDataException($"Weights file is {data.Length} bytes; dims {string.Join('-', dims)} need {expected}.");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (Crc32.HashToUInt32(data[..^4]) != stored)
        {
            throw new InvalidDataException("Weights file checksum mismatch (file is corrupt).");
        }

        var weights = new float[layers][];
        var biases = new float[layers][];
        int pos = headerLength;
        for (int l = 0; l < layers; l++)
        {
            weights[l] = new float[dims[l] * dims[l + 1]];
            biases[l] = new float[dims[l + 1]];
            pos = ReadValues(data, pos, weights[l], elementType);
            pos = ReadValues(data, pos, biases[l], elementType);
        }
        return new MlpModel(dims, weights, biases);
    }

    private static int WriteValues(Span<byte> span, int pos, float[] values, byte elementType)
    {
        foreach (float v in values)
        {
            if (elementType == Float32)
            {
                BinaryPrimitives.WriteSingleLittleEndian(span[pos..], v);
                pos += 4;
            }
            else
            {
                BinaryPrimitives.WriteHalfLittleEndian(span[pos..], (Half)v);
                pos += 2;
            }
        }
        return pos;
    }

    private static int ReadValues(ReadOnlySpan<byte> data, int pos, float[] values, byte elementType)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (elementType == Float32)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[pos..]);
                pos += 4;
            }
            else
            {
                values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[pos..]);
                pos += 2;
            }
        }
        return pos;
    }
}
