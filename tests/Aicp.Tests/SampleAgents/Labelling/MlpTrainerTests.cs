using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.Tests.SampleAgents.Labelling;

public class MlpTrainerTests
{
    [Fact]
    public void Train_SmallSubsetTwoEpochs_LearnsFarAboveChance()
    {
        MnistDataset data = MnistTestData.Get();
        var options = new TrainingOptions { HiddenSizes = [64], Epochs = 2, Seed = 7, LearningRate = 0.05f };

        MlpModel model = new MlpTrainer(options).Train(data, data.TrainIndices.Where((_, i) => i % 4 == 0).ToArray());
        double accuracy = MlpTrainer.Evaluate(model, data, data.TestIndices);

        Assert.True(accuracy > 0.80, $"accuracy {accuracy:P1} after a short run; chance is 10%");
    }

    [Fact]
    public void Train_SameSeedDifferentThreadCounts_IdenticalWeights()
    {
        MnistDataset data = MnistTestData.Get();
        int[] subset = data.TrainIndices.Take(640).ToArray();

        MlpModel one = new MlpTrainer(new TrainingOptions { HiddenSizes = [32], Epochs = 1, Seed = 3, MaxDegreeOfParallelism = 1 }).Train(data, subset);
        MlpModel two = new MlpTrainer(new TrainingOptions { HiddenSizes = [32], Epochs = 1, Seed = 3, MaxDegreeOfParallelism = 2 }).Train(data, subset);
        MlpModel other = new MlpTrainer(new TrainingOptions { HiddenSizes = [32], Epochs = 1, Seed = 4, MaxDegreeOfParallelism = 2 }).Train(data, subset);

        Assert.Equal(one.Weights, two.Weights);
        Assert.Equal(one.Biases, two.Biases);
        Assert.NotEqual(one.Weights[0], other.Weights[0]);
    }

    [Fact]
    public void Augmenter_SameSeed_SameDistortionAndStaysInRange()
    {
        MnistDataset data = MnistTestData.Get();
        var a = new float[784];
        var b = new float[784];

        Augmenter.Distort(data.Image(0), a, new DeterministicRandom(9), new TrainingOptions());
        Augmenter.Distort(data.Image(0), b, new DeterministicRandom(9), new TrainingOptions());

        Assert.Equal(a, b);
        Assert.All(a, v => Assert.InRange(v, 0f, 1f));
        Assert.True(a.Sum() > 10f, "distorted digit should keep most of its ink");
    }
}
