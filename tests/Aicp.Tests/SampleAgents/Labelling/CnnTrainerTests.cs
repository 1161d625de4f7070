using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.Tests.SampleAgents.Labelling;

public class CnnTrainerTests
{
    [Fact]
    public void Backward_SmallNetwork_MatchesNumericalGradientOfEveryParameterTensor()
    {
        CnnModel model = CnnModel.CreateInitial(2, 3, 5, seed: 11);
        MnistDataset data = MnistTestData.Get();
        int[] digits = data.TestIndices[..3];
        float[] images = digits.SelectMany(i => data.Image(i).ToArray().Select(p => p / 255f)).ToArray();
        byte[] labels = digits.Select(i => data.Labels[i]).ToArray();
        const int count = 3;
        var pass = new CnnPass(model);

        pass.Forward(images, count, default);
        var dLogits = new float[count * 10];
        for (int s = 0; s < count; s++)
        {
            double[] p = Softmax(pass.Logits.AsSpan(s * 10, 10));
            for (int k = 0; k < 10; k++) dLogits[s * 10 + k] = (float)((p[k] - (k == labels[s] ? 1 : 0)) / count);
        }

        float[][] gradients = model.Parameters.Select(p => new float[p.Length]).ToArray();
        pass.Backward(dLogits, new CnnTransposedWeights(model), gradients);

        // Central differences, skipping points where the loss bends within +-eps (a ReLU or max-pool switch there
        // makes any difference quotient meaningless); every other point must match, and most points must be checked.
        const float eps = 1e-3f;
        var failures = new List<string>();
        int compared = 0, total = 0;
        for (int t = 0; t < model.Parameters.Length; t++)
        {
            float[] parameter = model.Parameters[t];
            foreach (int i in Enumerable.Range(0, Math.Min(parameter.Length, 40)))
            {
                total++;
                float saved = parameter[i];
                double middle = Loss(pass, images, count, labels);
                parameter[i] = saved + eps;
                double up = Loss(pass, images, count, labels);
                parameter[i] = saved - eps;
                double down = Loss(pass, images, count, labels);
                parameter[i] = saved;
                double right = (up - middle) / eps, left = (middle - down) / eps, numerical = (up - down) / (2 * eps);
                if (Math.Abs(right - left) > 1e-3 + 0.05 * Math.Abs(numerical))
                {
                    continue;
                }

                compared++;
                if (Math.Abs(numerical - gradients[t][i]) > 1e-3 + 0.02 * Math.Abs(numerical))
                {
                    failures.Add($"{CnnModel.ParameterNames[t]}[{i}]: analytic {gradients[t][i]:G5}, numerical {numerical:G5}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("; ", failures));
        Assert.True(compared >= 0.9 * total, $"only {compared}/{total} points were smooth enough to compare");
    }

    [Fact]
    public void Train_SameSeedOneOrTwoThreads_IdenticalWeightsAndOtherSeedDiffers()
    {
        MnistDataset data = MnistTestData.Get();
        int[] subset = data.TrainIndices.Take(200).ToArray();
        TrainingOptions Options(int threads, ulong seed) =>
            new() { Channels = [4, 6], HiddenSizes = [16], Dropout = 0.3f, Epochs = 1, Seed = seed, MaxDegreeOfParallelism = threads };

        CnnModel one = new CnnTrainer(Options(1, 3)).Train(data, subset);
        CnnModel two = new CnnTrainer(Options(2, 3)).Train(data, subset);
        CnnModel other = new CnnTrainer(Options(2, 4)).Train(data, subset);

        for (int t = 0; t < one.Parameters.Length; t++)
        {
            Assert.Equal(one.Parameters[t], two.Parameters[t]);
        }

        Assert.NotEqual(one.Parameters[0], other.Parameters[0]);
    }

    [Fact]
    public void Train_SmallSubsetTwoEpochs_LearnsFarAboveChance()
    {
        MnistDataset data = MnistTestData.Get();
        var options = new TrainingOptions { Channels = [6, 12], HiddenSizes = [32], Epochs = 2, Seed = 7, Augment = false };

        CnnModel model = new CnnTrainer(options).Train(data, data.TrainIndices.Where((_, i) => i % 4 == 0).ToArray());
        double accuracy = CnnTrainer.Evaluate(model, data, data.TestIndices, threads: 2);

        Assert.True(accuracy > 0.80, $"accuracy {accuracy:P1} after two epochs on 2,000 digits; chance is 10%");
    }

    [Fact]
    public void Forward_OneOrManyThreads_SameLogits()
    {
        CnnModel model = CnnModel.CreateInitial(3, 4, 8, seed: 2);
        var rng = new Random(3);
        float[] images = Enumerable.Range(0, 21 * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        var one = new float[21 * 10];
        var two = new float[21 * 10];

        model.Forward(images, 21, one, threads: 1);
        model.Forward(images, 21, two, threads: 2);

        Assert.Equal(one, two);
        Assert.Contains(one, v => v != 0f);
    }

    private static double Loss(CnnPass pass, float[] images, int count, byte[] labels)
    {
        pass.Forward(images, count, default);
        double loss = 0;
        for (int s = 0; s < count; s++)
        {
            loss -= Math.Log(Softmax(pass.Logits.AsSpan(s * 10, 10))[labels[s]]);
        }

        return loss / count;
    }

    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.MinValue;
        foreach (float v in logits) max = Math.Max(max, v);
        var e = new double[logits.Length];
        double sum = 0;
        for (int k = 0; k < logits.Length; k++) sum += e[k] = Math.Exp(logits[k] - max);
        for (int k = 0; k < logits.Length; k++) e[k] /= sum;
        return e;
    }
}
