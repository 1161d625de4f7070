using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Export;
using Aicp.SampleAgents.Labelling.Training;
using Aicp.Tests.SampleAgents.Labelling;
using Google.Protobuf;
using Onnx;

namespace Aicp.Tests.SampleAgents.Onnx;

/// <summary>
/// The ONNX files the tests serve: the shipped CNN, a small MLP the trainer writes once per test run (a second model
/// with other names and shapes), and hand-built graphs for the cases a digits model does not cover.
/// </summary>
internal static class TestModels
{
    private static readonly Lazy<string> Directory = new(() =>
        System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"aicp-onnx-{Environment.ProcessId}")).FullName);

    private static readonly Lazy<(string Path, MlpModel Model)> TrainedMlp = new(() =>
    {
        var data = MnistTestData.Get();
        MlpModel model = new MlpTrainer(new TrainingOptions { HiddenSizes = [32], Epochs = 2, Seed = 5, Augment = false })
            .Train(data, data.TrainIndices.Where((_, i) => i % 4 == 0).ToArray());
        string path = Path.Combine(Directory.Value, "digits-mlp.onnx");
        OnnxExport.Write(OnnxExport.Mlp(model), path);
        return (path, model);
    });

    /// <summary>models/digits.onnx as copied next to the tests.</summary>
    public static string ShippedCnn => Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath);

    /// <summary>A 784-32-10 MLP trained for two epochs on 2,000 digits (input <c>pixels</c> [N,784], output <c>probabilities</c> [N,10]).</summary>
    public static string Mlp => TrainedMlp.Value.Path;

    public static MlpModel MlpWeights => TrainedMlp.Value.Model;

    private static readonly Lazy<string> FixedReluFile = new(() => Write("fixed-relu.onnx", Graph(
        [Value("x", TensorProto.Types.DataType.Float, 2, 3)], [Value("y", TensorProto.Types.DataType.Float, 2, 3)], Node("Relu", ["x"], "y"))));

    private static readonly Lazy<string> TwoInputAddFile = new(() => Write("two-input-add.onnx", Graph(
        [Value("a", TensorProto.Types.DataType.Float, -1, 3), Value("b", TensorProto.Types.DataType.Float, -1, 3)],
        [Value("sum", TensorProto.Types.DataType.Float, -1, 3)], Node("Add", ["a", "b"], "sum"))));

    private static readonly Lazy<string> Int64InputFile = new(() => Write("int64-input.onnx", Graph(
        [Value("ids", TensorProto.Types.DataType.Int64, -1, 3)], [Value("y", TensorProto.Types.DataType.Float, -1, 3)],
        Node("Cast", ["ids"], "y", new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float }))));

    private static readonly Lazy<string> NotAModelFile = new(() =>
    {
        string path = Path.Combine(Directory.Value, "not-a-model.onnx");
        File.WriteAllText(path, "this is not a protobuf");
        return path;
    });

    /// <summary>y = Relu(x) with a fixed first dimension: x float32 [2,3], y float32 [2,3].</summary>
    public static string FixedRelu => FixedReluFile.Value;

    /// <summary>sum = a + b, both [N,3]: runs only when the two batch dimensions agree.</summary>
    public static string TwoInputAdd => TwoInputAddFile.Value;

    /// <summary>An int64 input cast to float: a model the agent refuses to serve.</summary>
    public static string Int64Input => Int64InputFile.Value;

    /// <summary>A file that is not a model.</summary>
    public static string NotAModel => NotAModelFile.Value;

    private static string Write(string name, GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "Aicp.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        string path = Path.Combine(Directory.Value, name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static GraphProto Graph(ValueInfoProto[] inputs, ValueInfoProto[] outputs, params NodeProto[] nodes)
    {
        var graph = new GraphProto { Name = "test" };
        graph.Input.AddRange(inputs);
        graph.Output.AddRange(outputs);
        graph.Node.AddRange(nodes);
        return graph;
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
