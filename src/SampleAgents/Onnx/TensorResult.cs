using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Aicp.SampleAgents.Onnx;

/// <summary>
/// A model agent's result, written as one MessagePack value:
/// <code>
/// { "outputs": { "&lt;output name&gt;": { "shape": [2, 10], "data": &lt;float32 little-endian bin | [float32 numbers]&gt; }, ... },
///   "model": "digits.onnx", "agent": "onnx-1" }
/// </code>
/// Data goes back the way the request sent it (<see cref="TensorRequest.Binary"/>). On a JSON connection the SDK sends
/// the JSON form: <c>bin</c> as base64, float32 numbers as their shortest text.
/// </summary>
internal static class TensorResult
{
    public static ReadOnlyMemory<byte> Write(IReadOnlyList<FloatTensor> outputs, bool binary, string model, string agent)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + outputs.Sum(o => o.Data.Length * 5));
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(3);
        writer.Write("outputs");
        writer.WriteMapHeader(outputs.Count);
        foreach (FloatTensor output in outputs)
        {
            writer.Write(output.Name);
            WriteTensor(ref writer, output, binary);
        }

        writer.Write("model");
        writer.Write(model);
        writer.Write("agent");
        writer.Write(agent);
        writer.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>Writes <c>{shape, data}</c>, the data as float32 little-endian <c>bin</c> or as an array of float32.</summary>
    internal static void WriteTensor(ref MessagePackWriter writer, FloatTensor tensor, bool binary)
    {
        writer.WriteMapHeader(2);
        writer.Write("shape");
        writer.WriteArrayHeader(tensor.Shape.Length);
        foreach (long d in tensor.Shape)
        {
            writer.Write(d);
        }

        writer.Write("data");
        if (binary)
        {
            int length = tensor.Data.Length * sizeof(float);
            writer.WriteBinHeader(length);
            Span<byte> target = writer.GetSpan(length)[..length];
            for (int i = 0; i < tensor.Data.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(target[(i * sizeof(float))..], tensor.Data[i]);
            }

            writer.Advance(length);
        }
        else
        {
            writer.WriteArrayHeader(tensor.Data.Length);
            foreach (float value in tensor.Data)
            {
                writer.Write(value);
            }
        }
    }

    /// <summary>
    /// The outputs of a result (the submitter's side), in either wire form: data as <c>bin</c>, a base64 string or an
    /// array of numbers. Empty when the result is not a model agent's.
    /// </summary>
    public static IReadOnlyList<FloatTensor> Read(Aicp.Protocol.TaskPayload? result)
    {
        if (result is null)
        {
            return [];
        }

        var outputs = new List<FloatTensor>();
        var reader = new MessagePackReader(result.MessagePack);
        try
        {
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                return [];
            }

            int count = reader.ReadMapHeader();
            for (int i = 0; i < count; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.String || reader.ReadString() != "outputs" || reader.NextMessagePackType != MessagePackType.Map)
                {
                    reader.Skip();
                    continue;
                }

                int tensors = reader.ReadMapHeader();
                for (int t = 0; t < tensors; t++)
                {
                    string name = reader.ReadString() ?? "";
                    long[] shape = [];
                    float[] data = [];
                    int fields = reader.ReadMapHeader();
                    for (int f = 0; f < fields; f++)
                    {
                        switch (reader.ReadString())
                        {
                            case "shape":
                                shape = new long[reader.ReadArrayHeader()];
                                for (int d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
                                break;
                            case "data":
                                data = ReadData(ref reader);
                                break;
                            default:
                                reader.Skip();
                                break;
                        }
                    }

                    outputs.Add(new FloatTensor(name, shape, data));
                }
            }
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or FormatException or OverflowException)
        {
            return [];
        }

        return outputs;
    }

    private static float[] ReadData(ref MessagePackReader reader)
    {
        byte[] bytes;
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Binary:
                bytes = reader.ReadBytes()!.Value.ToArray();
                break;
            case MessagePackType.String:
                bytes = Convert.FromBase64String(reader.ReadString()!);
                break;
            default:
                var values = new float[reader.ReadArrayHeader()];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = reader.NextMessagePackType == MessagePackType.Float && reader.NextCode == MessagePackCode.Float32
                        ? reader.ReadSingle()
                        : reader.NextMessagePackType == MessagePackType.Float ? (float)reader.ReadDouble() : reader.ReadInt64();
                }

                return values;
        }

        var floats = new float[bytes.Length / sizeof(float)];
        for (int i = 0; i < floats.Length; i++)
        {
            floats[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }

        return floats;
    }
}
