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
            writer.WriteMapHeader(2);
            writer.Write("shape");
            writer.WriteArrayHeader(output.Shape.Length);
            foreach (long d in output.Shape)
            {
                writer.Write(d);
            }

            writer.Write("data");
            if (binary)
            {
                int length = output.Data.Length * sizeof(float);
                writer.WriteBinHeader(length);
                Span<byte> target = writer.GetSpan(length)[..length];
                for (int i = 0; i < output.Data.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(target[(i * sizeof(float))..], output.Data[i]);
                }

                writer.Advance(length);
            }
            else
            {
                writer.WriteArrayHeader(output.Data.Length);
                foreach (float value in output.Data)
                {
                    writer.Write(value);
                }
            }
        }

        writer.Write("model");
        writer.Write(model);
        writer.Write("agent");
        writer.Write(agent);
        writer.Flush();
        return buffer.WrittenMemory;
    }
}
