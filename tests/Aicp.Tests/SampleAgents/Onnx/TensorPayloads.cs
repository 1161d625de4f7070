using System.Buffers;
using System.Buffers.Binary;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Tests.SampleAgents.Onnx;

/// <summary>Builds model-agent payloads as MessagePack (bin stays bin at any depth) and reads results back.</summary>
internal static class TensorPayloads
{
    public static byte[] Bytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    /// <summary>
    /// <c>{inputs: {name: {shape, data}}, outputs?}</c>; data: byte[] as bin, float[] as an array of float32, any other
    /// value as the standard resolver writes it (a string, an array of objects).
    /// </summary>
    public static TaskPayload Request(IEnumerable<(string Name, long[] Shape, object Data)> inputs, string[]? outputs = null) =>
        TaskPayload.FromMessagePack(RequestBytes(inputs, outputs));

    public static byte[] RequestBytes(IEnumerable<(string Name, long[] Shape, object Data)> inputs, string[]? outputs = null)
    {
        var list = inputs.ToList();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(outputs is null ? 1 : 2);
        writer.Write("inputs");
        writer.WriteMapHeader(list.Count);
        foreach (var (name, shape, data) in list)
        {
            writer.Write(name);
            writer.WriteMapHeader(2);
            writer.Write("shape");
            writer.WriteArrayHeader(shape.Length);
            foreach (long d in shape) writer.Write(d);
            writer.Write("data");
            switch (data)
            {
                case byte[] bytes:
                    writer.Write(bytes);
                    break;
                case float[] values:
                    writer.WriteArrayHeader(values.Length);
                    foreach (float v in values) writer.Write(v);
                    break;
                default:
                    writer.WriteRaw(MessagePackSerializer.Serialize(data.GetType(), data));
                    break;
            }
        }

        if (outputs is not null)
        {
            writer.Write("outputs");
            writer.WriteArrayHeader(outputs.Length);
            foreach (string name in outputs) writer.Write(name);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The outputs of a result (either wire form): name -> (shape, values, whether the data came as bytes).</summary>
    public static Dictionary<string, (long[] Shape, float[] Data, bool Binary)> Outputs(TaskPayload result)
    {
        var root = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(result.MessagePack)!;
        var outputs = (Dictionary<object, object>)root["outputs"];
        return outputs.ToDictionary(o => (string)o.Key, o =>
        {
            var tensor = (Dictionary<object, object>)o.Value;
            long[] shape = ((object[])tensor["shape"]).Select(Convert.ToInt64).ToArray();
            object data = tensor["data"];
            return data switch
            {
                byte[] bytes => (shape, Floats(bytes), true),
                string base64 => (shape, Floats(Convert.FromBase64String(base64)), true),
                object[] numbers => (shape, numbers.Select(n => Convert.ToSingle(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray(), false),
                _ => throw new InvalidOperationException($"unexpected data {data.GetType()}"),
            };
        });
    }

    public static string Field(TaskPayload result, string name) =>
        (string)((Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(result.MessagePack)!)[name];

    private static float[] Floats(byte[] bytes)
    {
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        return values;
    }
}
