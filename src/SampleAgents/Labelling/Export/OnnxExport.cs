using System.Buffers.Binary;
using Aicp.SampleAgents.Labelling.Training;
using Google.Protobuf;
using Onnx;

namespace Aicp.SampleAgents.Labelling.Export;

/// <summary>
/// Writes the trainer's networks as standard ONNX files (IR version 8, default opset 13) with OnnxSharp's generated
/// ONNX protobuf classes, and reads a CNN's weights back. The graphs use only core operators (Conv, Relu, MaxPool,
/// Flatten, Gemm, Softmax), so any ONNX runtime runs them. Weights are float32 initializers (raw little-endian data);
/// the batch dimension is the symbolic <c>N</c>.
/// </summary>
internal static class OnnxExport
{
    /// <summary>The CNN's input: float32 [N, 1, 28, 28], grey values scaled to [0, 1].</summary>
    public const string CnnInput = "input";

    /// <summary>The CNN's output: float32 [N, 10], unnormalised scores per digit.</summary>
    public const string CnnOutput = "logits";

    /// <summary>The MLP's input: float32 [N, 784], grey values scaled to [0, 1], row-major.</summary>
    public const string MlpInput = "pixels";

    /// <summary>The MLP's output: float32 [N, 10], softmax probabilities per digit.</summary>
    public const string MlpOutput = "probabilities";

    public const string BatchDimension = "N";
    public const string ArchitectureKey = "architecture";
    private const long IrVersion = 8;
    private const long Opset = 13;
    private const string Producer = "Aicp.SampleAgents";

    /// <summary>The CNN as an ONNX model: Conv-Relu-MaxPool twice, Flatten, Gemm-Relu, Gemm.</summary>
    public static ModelProto Cnn(CnnModel model, string? description = null)
    {
        var graph = new GraphProto { Name = "digits_cnn" };
        graph.Input.Add(Value(CnnInput, [null, 1, CnnModel.Side, CnnModel.Side]));
        graph.Output.Add(Value(CnnOutput, [null, CnnModel.Classes]));
        long[][] shapes = model.ParameterShapes;
        for (int i = 0; i < model.Parameters.Length; i++)
        {
            graph.Initializer.Add(Tensor(CnnModel.ParameterNames[i], shapes[i], model.Parameters[i]));
        }

        long k = CnnModel.Kernel;
        graph.Node.Add(Node("Conv", [CnnInput, "conv1.weight", "conv1.bias"], "conv1", Ints("kernel_shape", k, k), Ints("pads", 2, 2, 2, 2)));
        graph.Node.Add(Node("Relu", ["conv1"], "relu1"));
        graph.Node.Add(Node("MaxPool", ["relu1"], "pool1", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
        graph.Node.Add(Node("Conv", ["pool1", "conv2.weight", "conv2.bias"], "conv2", Ints("kernel_shape", k, k)));
        graph.Node.Add(Node("Relu", ["conv2"], "relu2"));
        graph.Node.Add(Node("MaxPool", ["relu2"], "pool2", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
        graph.Node.Add(Node("Flatten", ["pool2"], "flat", Int("axis", 1)));
        graph.Node.Add(Node("Gemm", ["flat", "fc1.weight", "fc1.bias"], "fc1"));
        graph.Node.Add(Node("Relu", ["fc1"], "relu3"));
        graph.Node.Add(Node("Gemm", ["relu3", "fc2.weight", "fc2.bias"], CnnOutput));
        return Model(graph, model.Architecture, description);
    }

    /// <summary>The MLP as an ONNX model: (Gemm-Relu)* then Gemm-Softmax. Weights stay [out, in] (Gemm with transB = 1).</summary>
    public static ModelProto Mlp(MlpModel model, string? description = null)
    {
        var graph = new GraphProto { Name = "digits_mlp" };
        graph.Input.Add(Value(MlpInput, [null, model.InputSize]));
        graph.Output.Add(Value(MlpOutput, [null, model.OutputSize]));
        string x = MlpInput;
        for (int l = 0; l < model.LayerCount; l++)
        {
            string weight = $"dense{l + 1}.weight", bias = $"dense{l + 1}.bias";
            graph.Initializer.Add(Tensor(weight, [model.Dims[l + 1], model.Dims[l]], model.Weights[l]));
            graph.Initializer.Add(Tensor(bias, [model.Dims[l + 1]], model.Biases[l]));
            bool last = l == model.LayerCount - 1;
            string y = last ? "logits" : $"dense{l + 1}";
            graph.Node.Add(Node("Gemm", [x, weight, bias], y, Int("transB", 1)));
            if (last)
            {
                graph.Node.Add(Node("Softmax", [y], MlpOutput, Int("axis", 1)));
            }
            else
            {
                graph.Node.Add(Node("Relu", [y], $"relu{l + 1}"));
                x = $"relu{l + 1}";
            }
        }

        return Model(graph, "mlp " + model.Architecture, description);
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> through a temporary file, so a reader never sees half a file.</summary>
    public static void Write(ModelProto model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.tmp";
        using (var stream = File.Create(temp))
        {
            model.WriteTo(stream);
        }

        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads the weights of a CNN written by <see cref="Cnn"/> back into the trainer's model.</summary>
    /// <exception cref="InvalidDataException">The file is not such a model.</exception>
    public static CnnModel ReadCnn(string path)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{path} is not an ONNX model: {ex.Message}", ex);
        }

        var initializers = model.Graph?.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal) ?? [];
        float[][] parameters = CnnModel.ParameterNames
            .Select(name => initializers.TryGetValue(name, out var tensor) ? Floats(tensor, path) : throw new InvalidDataException($"{path} has no initializer '{name}'."))
            .ToArray();
        var shape = initializers["conv2.weight"].Dims;
        int c1 = (int)shape[1], c2 = (int)shape[0], hidden = (int)initializers["fc1.weight"].Dims[1];
        try
        {
            return new CnnModel(c1, c2, hidden, parameters);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    private static ModelProto Model(GraphProto graph, string architecture, string? description)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = Producer,
            ModelVersion = 1,
            DocString = description ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = ArchitectureKey, Value = architecture });
        return model;
    }

    /// <summary>A float32 graph input or output; a null dimension is the symbolic batch size.</summary>
    private static ValueInfoProto Value(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long? d in dims)
        {
            shape.Dim.Add(d is { } value ? new TensorShapeProto.Types.Dimension { DimValue = value } : new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static float[] Floats(TensorProto tensor, string path)
    {
        long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new InvalidDataException($"{path}: initializer '{tensor.Name}' is not float32.");
        }

        if (tensor.FloatData.Count == count)
        {
            return [.. tensor.FloatData];
        }

        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        if (raw.Length != count * sizeof(float))
        {
            throw new InvalidDataException($"{path}: initializer '{tensor.Name}' holds {raw.Length} bytes for {count} values.");
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
        }

        return values;
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
