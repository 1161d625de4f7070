using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Export;
using Aicp.SampleAgents.Labelling.Training;
using Aicp.SampleAgents.Onnx;
using Aicp.Tests.SampleAgents.Onnx;

namespace Aicp.Tests.SampleAgents.Labelling;

/// <summary>The trainer's networks as ONNX files: ONNX Runtime computes what the trainer computes.</summary>
public class OnnxExportTests
{
    [Fact]
    public void ShippedCnn_OnnxRuntimeAgainstTrainerForwardPass_AgreeOn1000HeldOutDigits()
    {
        MnistDataset data = MnistTestData.Get();
        int[] digits = data.TestIndices.Take(TrainCommand.AgreementImages).ToArray();
        CnnModel weights = OnnxExport.ReadCnn(TestModels.ShippedCnn);
        using var model = OnnxModel.Load(TestModels.ShippedCnn);

        float[] trainer = CnnTrainer.Logits(weights, data, digits, threads: 2);
        float[] runtime = TrainCommand.RunOnHeldOut(model, data, digits);
        var (agree, maxDifference) = TrainCommand.Compare(trainer, runtime);

        Assert.Equal(1000, digits.Length);
        Assert.Equal(1000, agree);
        Assert.True(maxDifference < 1e-3f, $"largest logit difference {maxDifference:E2}");
    }

    [Fact]
    public void Cnn_WrittenAndReadBack_SameWeightsAndArchitecture()
    {
        CnnModel model = CnnModel.CreateInitial(3, 5, 7, seed: 9);
        string path = Path.Combine(Path.GetTempPath(), $"cnn-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Write(OnnxExport.Cnn(model, "test"), path);
            CnnModel read = OnnxExport.ReadCnn(path);
            using var loaded = OnnxModel.Load(path);

            Assert.Equal((3, 5, 7), (read.Channels1, read.Channels2, read.Hidden));
            Assert.Equal(model.Parameters, read.Parameters);
            Assert.Equal(model.Architecture, loaded.Metadata[OnnxExport.ArchitectureKey]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Mlp_OnnxRuntimeAgainstTrainerForwardPass_SameProbabilities()
    {
        MnistDataset data = MnistTestData.Get();
        int[] digits = data.TestIndices.Take(300).ToArray();
        using var model = OnnxModel.Load(TestModels.Mlp);

        float[] trainer = MlpTrainer.Probabilities(TestModels.MlpWeights, data, digits);
        float[] runtime = TrainCommand.RunOnHeldOut(model, data, digits);
        var (agree, maxDifference) = TrainCommand.Compare(trainer, runtime);

        Assert.Equal(300, agree);
        Assert.True(maxDifference < 1e-5f, $"largest probability difference {maxDifference:E2}");
    }

    [Fact]
    public void ReadCnn_NotACnn_InvalidData()
    {
        Assert.Throws<InvalidDataException>(() => OnnxExport.ReadCnn(TestModels.NotAModel));
        Assert.Throws<InvalidDataException>(() => OnnxExport.ReadCnn(TestModels.Mlp));
    }
}
