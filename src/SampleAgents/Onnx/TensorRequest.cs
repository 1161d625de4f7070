using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Aicp.Agent.Sdk.Agent;
using MessagePack;

namespace Aicp.SampleAgents.Onnx;

/// <summary>
/// A model agent's task, read from the payload's MessagePack (a JSON payload is converted to MessagePack first):
/// <code>
/// { "inputs":  { "&lt;input name&gt;": { "shape": [2, 1, 28, 28], "data": &lt;float32 little-endian bytes | [numbers]&gt; }, ... },
///   "outputs": ["&lt;output name&gt;", ...] }      // optional: every output when absent
/// </code>
/// Bytes are a MessagePack <c>bin</c> or a base64 string (what bytes become in JSON). Every model input must be
/// present, with the model's rank and fixed dimensions; anything else fails the task with a
/// <see cref="TensorErrorCodes"/> code. Keys are matched ASCII case-insensitively except tensor names, which are exact.
/// </summary>
internal sealed class TensorRequest
{
    /// <summary>Most values one tensor may hold (64 MiB of float32), far above what a hub message carries.</summary>
    public const long MaxElements = 16 * 1024 * 1024;

    private TensorRequest(FloatTensor[] inputs, string[] outputs, bool binary)
    {
        Inputs = inputs;
        Outputs = outputs;
        Binary = binary;
    }

    /// <summary>The inputs, in the model's input order.</summary>
    public IReadOnlyList<FloatTensor> Inputs { get; }

    /// <summary>The outputs to return, in the order asked (the model's order by default).</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>True when the first input's data came as bytes: the outputs are then sent as bytes too, else as arrays of numbers.</summary>
    public bool Binary { get; }

    /// <summary>The rows along the first dimension (all inputs agree), or null when the inputs disagree or have rank 0.</summary>
    public long? Rows
    {
        get
        {
            if (Inputs.Any(t => t.Shape.Length == 0))
            {
                return null;
            }

            long rows = Inputs[0].Shape[0];
            return Inputs.All(t => t.Shape[0] == rows) ? rows : null;
        }
    }

    /// <summary>
    /// A payload for a model agent (the submitter's side): <paramref name="inputs"/> with their data as float32
    /// little-endian bytes (<c>bin</c>; base64 on a JSON connection) or as arrays of numbers.
    /// </summary>
    public static Aicp.Protocol.TaskPayload Create(IReadOnlyList<FloatTensor> inputs, bool binary = true)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + inputs.Sum(t => t.Data.Length * 5));
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(1);
        writer.Write("inputs");
        writer.WriteMapHeader(inputs.Count);
        foreach (FloatTensor input in inputs)
        {
            writer.Write(input.Name);
            TensorResult.WriteTensor(ref writer, input, binary);
        }

        writer.Flush();
        return Aicp.Protocol.TaskPayload.FromMessagePack(buffer.WrittenMemory);
    }

    /// <summary>Reads a task's payload (as it arrived: MessagePack, or JSON converted to MessagePack) as a request to <paramref name="model"/>.</summary>
    /// <exception cref="AgentTaskException">With a <see cref="TensorErrorCodes"/> code.</exception>
    public static TensorRequest Read(Aicp.Protocol.TaskPayload? payload, OnnxModel model) =>
        payload is null
            ? throw Fail(TensorErrorCodes.InvalidPayload, "the payload is missing: {inputs: {name: {shape, data}}, outputs?: [names]}")
            : Read(payload.MessagePack, model);

    /// <summary>Reads one MessagePack payload as a request to <paramref name="model"/>.</summary>
    /// <exception cref="AgentTaskException">With a <see cref="TensorErrorCodes"/> code.</exception>
    public static TensorRequest Read(ReadOnlyMemory<byte> messagePack, OnnxModel model)
    {
        try
        {
            var reader = new MessagePackReader(messagePack);
            return ReadPayload(ref reader, model);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            // The hub checked the payload is one well-formed value; a value of an unexpected type for a field ends here.
            throw Fail(TensorErrorCodes.InvalidPayload, $"unreadable payload: {ex.Message}");
        }
    }

    private static TensorRequest ReadPayload(ref MessagePackReader reader, OnnxModel model)
    {
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            throw Fail(TensorErrorCodes.InvalidPayload, "the payload must be a map: {inputs: {name: {shape, data}}, outputs?: [names]}");
        }

        Dictionary<string, (FloatTensor Tensor, bool Binary)>? inputs = null;
        string[]? outputs = null;
        string? firstInput = null;
        int count = reader.ReadMapHeader();
        for (int i = 0; i < count; i++)
        {
            string? key = ReadKey(ref reader);
            if (Is(key, "inputs"))
            {
                inputs = ReadInputs(ref reader, model, out firstInput);
            }
            else if (Is(key, "outputs") && !reader.TryReadNil())
            {
                outputs = ReadOutputs(ref reader, model);
            }
            else
            {
                reader.Skip();
            }
        }

        if (inputs is null)
        {
            throw Fail(TensorErrorCodes.InvalidPayload, $"the payload has no 'inputs' map; the model's inputs: {string.Join("; ", model.Inputs)}");
        }

        var ordered = new FloatTensor[model.Inputs.Count];
        for (int i = 0; i < ordered.Length; i++)
        {
            TensorSpec spec = model.Inputs[i];
            ordered[i] = inputs.TryGetValue(spec.Name, out var input)
                ? input.Tensor
                : throw Fail(TensorErrorCodes.MissingInput, $"input '{spec.Name}' ({spec}) is missing");
        }

        return new TensorRequest(ordered, outputs ?? model.Outputs.Select(o => o.Name).ToArray(), inputs[firstInput!].Binary);
    }

    private static Dictionary<string, (FloatTensor, bool)> ReadInputs(ref MessagePackReader reader, OnnxModel model, out string? first)
    {
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            throw Fail(TensorErrorCodes.InvalidPayload, "'inputs' must be a map from input name to {shape, data}");
        }

        first = null;
        var inputs = new Dictionary<string, (FloatTensor, bool)>(StringComparer.Ordinal);
        int count = reader.ReadMapHeader();
        for (int i = 0; i < count; i++)
        {
            string name = ReadKey(ref reader) ?? throw Fail(TensorErrorCodes.InvalidPayload, "input names must be strings");
            TensorSpec spec = model.Inputs.FirstOrDefault(s => s.Name == name)
                              ?? throw Fail(TensorErrorCodes.UnknownInput, $"the model has no input '{name}'; its inputs: {string.Join("; ", model.Inputs)}");
            if (inputs.ContainsKey(name))
            {
                throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}' appears twice");
            }

            inputs[name] = ReadTensor(ref reader, spec);
            first ??= name;
        }

        if (count == 0)
        {
            throw Fail(TensorErrorCodes.MissingInput, $"'inputs' is empty; the model's inputs: {string.Join("; ", model.Inputs)}");
        }

        return inputs;
    }

    private static (FloatTensor Tensor, bool Binary) ReadTensor(ref MessagePackReader reader, TensorSpec spec)
    {
        string name = spec.Name;
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}' must be a map {{shape, data}}");
        }

        long[]? shape = null;
        float[]? values = null;
        byte[]? bytes = null;
        int count = reader.ReadMapHeader();
        for (int i = 0; i < count; i++)
        {
            string? key = ReadKey(ref reader);
            if (Is(key, "shape"))
            {
                shape = ReadShape(ref reader, name);
            }
            else if (Is(key, "data"))
            {
                switch (reader.NextMessagePackType)
                {
                    case MessagePackType.Binary:
                        bytes = reader.ReadBytes()!.Value.ToArray();
                        break;
                    case MessagePackType.String:
                        string text = reader.ReadString()!;
                        bytes = new byte[text.Length * 3 / 4 + 3];
                        if (!Convert.TryFromBase64String(text, bytes, out int written))
                        {
                            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': data is a string but not base64 of float32 little-endian bytes");
                        }

                        bytes = bytes[..written];
                        break;
                    case MessagePackType.Array:
                        values = ReadNumbers(ref reader, name);
                        break;
                    default:
                        throw Fail(TensorErrorCodes.InvalidTensor,
                            $"input '{name}': data must be float32 little-endian bytes (bin or base64) or an array of numbers, not {reader.NextMessagePackType}");
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (shape is null || (values is null && bytes is null))
        {
            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}' needs both 'shape' and 'data'");
        }

        if (shape.Length != spec.Dimensions.Length
            || shape.Where((d, i) => spec.Dimensions[i] >= 0 && d != spec.Dimensions[i]).Any())
        {
            throw Fail(TensorErrorCodes.ShapeMismatch, $"input '{name}' has shape [{string.Join(",", shape)}]; the model takes {spec.ShapeText}");
        }

        long elements = FloatTensor.ElementCount(shape);
        if (bytes is not null)
        {
            if (bytes.Length != elements * sizeof(float))
            {
                throw Fail(TensorErrorCodes.DataLengthMismatch, $"input '{name}': shape [{string.Join(",", shape)}] needs {elements * sizeof(float)} bytes of float32, got {bytes.Length}");
            }

            values = new float[elements];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
            }
        }
        else if (values!.Length != elements)
        {
            throw Fail(TensorErrorCodes.DataLengthMismatch, $"input '{name}': shape [{string.Join(",", shape)}] needs {elements} values, got {values.Length}");
        }

        return (new FloatTensor(name, shape, values), bytes is not null);
    }

    private static long[] ReadShape(ref MessagePackReader reader, string name)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': shape must be an array of integers");
        }

        int rank = reader.ReadArrayHeader();
        if (rank > 16)
        {
            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': rank {rank} is above 16");
        }

        var shape = new long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            if (reader.NextMessagePackType != MessagePackType.Integer || reader.NextCode == MessagePackCode.UInt64)
            {
                throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': shape must be an array of integers");
            }

            shape[i] = reader.ReadInt64();
            if (shape[i] < 1 || shape[i] > MaxElements || (elements *= shape[i]) > MaxElements)
            {
                throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': dimensions must be >= 1 and hold at most {MaxElements} values");
            }
        }

        return shape;
    }

    private static float[] ReadNumbers(ref MessagePackReader reader, string name)
    {
        int count = reader.ReadArrayHeader();
        if (count > MaxElements)
        {
            throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': more than {MaxElements} values");
        }

        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.NextMessagePackType switch
            {
                MessagePackType.Float => reader.NextCode == MessagePackCode.Float32 ? reader.ReadSingle() : (float)reader.ReadDouble(),
                MessagePackType.Integer => reader.NextCode == MessagePackCode.UInt64 ? reader.ReadUInt64() : reader.ReadInt64(),
                _ => throw Fail(TensorErrorCodes.InvalidTensor, $"input '{name}': data[{i}] is {reader.NextMessagePackType}, not a number"),
            };
        }

        return values;
    }

    private static string[] ReadOutputs(ref MessagePackReader reader, OnnxModel model)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw Fail(TensorErrorCodes.InvalidPayload, "'outputs' must be an array of output names");
        }

        int count = reader.ReadArrayHeader();
        var names = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.NextMessagePackType == MessagePackType.String
                ? reader.ReadString()!
                : throw Fail(TensorErrorCodes.InvalidPayload, "'outputs' must be an array of output names");
            if (!model.Outputs.Any(o => o.Name == name))
            {
                throw Fail(TensorErrorCodes.UnknownOutput, $"the model has no output '{name}'; its outputs: {string.Join("; ", model.Outputs)}");
            }

            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return names.Count > 0 ? [.. names] : throw Fail(TensorErrorCodes.InvalidPayload, "'outputs' is empty; leave it out for every output");
    }

    /// <summary>A map key as a string; null (after skipping it) for a key of another type.</summary>
    private static string? ReadKey(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType == MessagePackType.String)
        {
            ReadOnlySequence<byte> utf8 = reader.ReadStringSequence()!.Value;
            return Encoding.UTF8.GetString(utf8);
        }

        reader.Skip();
        return null;
    }

    private static bool Is(string? key, string name) => key is not null && string.Equals(key, name, StringComparison.OrdinalIgnoreCase);

    private static AgentTaskException Fail(string code, string message) => new(code, message);
}
