using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Imaging;

namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// Trains a <see cref="CnnModel"/>: mini-batch SGD with momentum, cosine learning-rate decay, L2 weight decay,
/// softmax cross-entropy, optional dropout on the hidden dense layer, and the random affine distortions of
/// <see cref="Augmenter"/>.
/// Deterministic for a given seed and data: a batch is cut into fixed groups of <see cref="CnnPass.MaxSamples"/>
/// images, each group's gradient is summed on one thread in a fixed order, and the groups are added in order, so the
/// weights do not depend on the thread count or on scheduling. Random numbers are drawn on the calling thread only.
/// </summary>
internal sealed class CnnTrainer(TrainingOptions options)
{
    public CnnModel Train(
        MnistDataset data,
        IReadOnlyList<int> trainIndices,
        IReadOnlyList<int>? heldOutIndices = null,
        Action<EpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        string[] errors = options.Validate().ToArray();
        if (errors.Length > 0) throw new ArgumentException("Invalid training options: " + string.Join("; ", errors));
        if (trainIndices.Count == 0) throw new ArgumentException("No training images.", nameof(trainIndices));

        CnnModel model = CnnModel.CreateInitial(options.Channels[0], options.Channels[1], options.HiddenSizes[0], options.Seed);
        int batchSize = options.BatchSize;
        int groups = (batchSize + CnnPass.MaxSamples - 1) / CnnPass.MaxSamples;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        var passes = new ConcurrentBag<CnnPass>();
        float[][][] groupGradients = Enumerable.Range(0, groups).Select(_ => model.Parameters.Select(p => new float[p.Length]).ToArray()).ToArray();
        float[][] velocity = model.Parameters.Select(p => new float[p.Length]).ToArray();
        var transposed = new CnnTransposedWeights(model);

        const int pixels = ImageInput.PixelCount;
        var inputs = new float[batchSize * pixels];
        var labels = new byte[batchSize];
        var dropoutMask = options.Dropout > 0 ? new float[batchSize * model.Hidden] : null;
        var groupLoss = new double[groups];

        int[] order = trainIndices.ToArray();
        int stepsPerEpoch = (order.Length + batchSize - 1) / batchSize;
        long totalSteps = (long)stepsPerEpoch * options.Epochs, step = 0;
        var shuffleRng = new DeterministicRandom(options.Seed ^ 0x5EED_5EED_5EED_5EEDUL);
        var augmentRng = new DeterministicRandom(options.Seed ^ 0xA06_A06_A06UL);
        var dropoutRng = new DeterministicRandom(options.Seed ^ 0xD20_D20_D20UL);
        var clock = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            shuffleRng.Shuffle(order);
            double lossSum = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int batch = Math.Min(batchSize, order.Length - start);
                for (int i = 0; i < batch; i++)
                {
                    int index = order[start + i];
                    labels[i] = data.Labels[index];
                    Span<float> row = inputs.AsSpan(i * pixels, pixels);
                    if (options.Augment) Augmenter.Distort(data.Image(index), row, augmentRng, options);
                    else ImageInput.ToInput(data.Image(index), row);
                }

                if (dropoutMask is not null)
                {
                    float keep = 1f - options.Dropout, scale = 1f / keep;
                    for (int i = 0; i < batch * model.Hidden; i++)
                    {
                        dropoutMask[i] = dropoutRng.NextSingle() < keep ? scale : 0f;
                    }
                }

                int used = (batch + CnnPass.MaxSamples - 1) / CnnPass.MaxSamples;
                Parallel.For(0, used, parallel, g =>
                {
                    int first = g * CnnPass.MaxSamples, n = Math.Min(CnnPass.MaxSamples, batch - first);
                    CnnPass pass = passes.TryTake(out var pooled) ? pooled : new CnnPass(model);
                    pass.Forward(inputs.AsSpan(first * pixels, n * pixels), n,
                        dropoutMask is null ? default : dropoutMask.AsSpan(first * model.Hidden, n * model.Hidden));
                    var dLogits = new float[n * CnnModel.Classes];
                    groupLoss[g] = SoftmaxCrossEntropy(pass.Logits, labels.AsSpan(first, n), batch, dLogits);
                    foreach (float[] gradient in groupGradients[g]) gradient.AsSpan().Clear();
                    pass.Backward(dLogits, transposed, groupGradients[g]);
                    passes.Add(pass);
                });

                for (int g = 0; g < used; g++)
                {
                    lossSum += groupLoss[g];
                }

                for (int g = 1; g < used; g++)
                {
                    for (int p = 0; p < model.Parameters.Length; p++)
                    {
                        TensorPrimitives.Add(groupGradients[0][p], groupGradients[g][p], groupGradients[0][p]);
                    }
                }

                float lr = options.LearningRate * 0.5f * (1f + MathF.Cos(MathF.PI * step / totalSteps));
                Update(model, groupGradients[0], velocity, lr);
                transposed.Update();
                step++;
            }

            double? accuracy = heldOutIndices is { Count: > 0 } && progress is not null ? Evaluate(model, data, heldOutIndices, options.MaxDegreeOfParallelism) : null;
            progress?.Invoke(new EpochReport(epoch, options.Epochs, lossSum / order.Length, accuracy, clock.Elapsed));
        }

        return model;
    }

    /// <summary>Fraction of <paramref name="indices"/> whose largest logit (the trainer's own forward pass) is the right digit.</summary>
    public static double Evaluate(CnnModel model, MnistDataset data, IReadOnlyList<int> indices, int threads = 1)
    {
        float[] logits = Logits(model, data, indices, threads);
        int correct = 0;
        for (int i = 0; i < indices.Count; i++)
        {
            if (TensorPrimitives.IndexOfMax(logits.AsSpan(i * CnnModel.Classes, CnnModel.Classes)) == data.Labels[indices[i]]) correct++;
        }

        return (double)correct / indices.Count;
    }

    /// <summary>The trainer's logits for the given images, [count, 10].</summary>
    public static float[] Logits(CnnModel model, MnistDataset data, IReadOnlyList<int> indices, int threads = 1)
    {
        const int pixels = ImageInput.PixelCount;
        var inputs = new float[indices.Count * pixels];
        for (int i = 0; i < indices.Count; i++)
        {
            ImageInput.ToInput(data.Image(indices[i]), inputs.AsSpan(i * pixels, pixels));
        }

        var logits = new float[indices.Count * CnnModel.Classes];
        model.Forward(inputs, indices.Count, logits, threads);
        return logits;
    }

    /// <summary>Writes the loss gradient at the logits, (softmax - one-hot) / batch, and returns the summed loss.</summary>
    private static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, int batch, Span<float> dLogits)
    {
        const int classes = CnnModel.Classes;
        double loss = 0;
        Span<float> p = stackalloc float[classes];
        for (int s = 0; s < labels.Length; s++)
        {
            TensorPrimitives.SoftMax(logits.Slice(s * classes, classes), p);
            loss -= Math.Log(Math.Max(p[labels[s]], 1e-12f));
            p[labels[s]] -= 1f;
            TensorPrimitives.Divide(p, batch, dLogits.Slice(s * classes, classes));
        }

        return loss;
    }

    private void Update(CnnModel model, float[][] gradients, float[][] velocity, float lr)
    {
        for (int p = 0; p < model.Parameters.Length; p++)
        {
            Span<float> w = model.Parameters[p], g = gradients[p], v = velocity[p];
            if (CnnModel.IsWeight(p))
            {
                TensorPrimitives.MultiplyAdd(w, options.WeightDecay, g, g); // g += decay * w
            }

            TensorPrimitives.Multiply(v, options.Momentum, v);              // v = momentum * v
            TensorPrimitives.MultiplyAdd(g, -lr, v, v);                     // v -= lr * g
            TensorPrimitives.Add(w, v, w);                                  // w += v
        }
    }
}
