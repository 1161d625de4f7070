using System.Diagnostics;
using System.Numerics.Tensors;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Imaging;

namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>Progress after one epoch.</summary>
internal readonly record struct EpochReport(int Epoch, int Epochs, double MeanLoss, double? HeldOutAccuracy, TimeSpan Elapsed);

/// <summary>
/// Mini-batch SGD with momentum, cosine learning-rate decay, L2 weight decay and softmax cross-entropy.
/// Deterministic for a given seed and data: work is split across threads by output neuron (or by sample for the
/// back-propagated error), never by summing partial results from different threads, so the floating-point
/// order — and hence the weights — do not depend on the thread count or scheduling.
/// </summary>
internal sealed class MlpTrainer(TrainingOptions options)
{
    private const int ParallelThreshold = 32;

    public MlpModel Train(
        MnistDataset data,
        IReadOnlyList<int> trainIndices,
        IReadOnlyList<int>? heldOutIndices = null,
        Action<EpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        string[] errors = options.Validate().ToArray();
        if (errors.Length > 0) throw new ArgumentException("Invalid training options: " + string.Join("; ", errors));
        if (trainIndices.Count == 0) throw new ArgumentException("No training images.", nameof(trainIndices));

        int[] dims = [ImageInput.PixelCount, .. options.HiddenSizes, MnistDataset.ClassCount];
        MlpModel model = MlpModel.CreateInitial(dims, options.Seed);
        int layers = model.LayerCount;
        int batchSize = options.BatchSize;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };

        var activations = new float[layers + 1][];
        var deltas = new float[layers + 1][];
        for (int l = 0; l <= layers; l++)
        {
            activations[l] = new float[batchSize * dims[l]];
            deltas[l] = new float[batchSize * dims[l]];
        }
        var gradW = model.Weights.Select(w => new float[w.Length]).ToArray();
        var gradB = model.Biases.Select(b => new float[b.Length]).ToArray();
        var velW = model.Weights.Select(w => new float[w.Length]).ToArray();
        var velB = model.Biases.Select(b => new float[b.Length]).ToArray();

        int[] order = trainIndices.ToArray();
        int stepsPerEpoch = (order.Length + batchSize - 1) / batchSize;
        long totalSteps = (long)stepsPerEpoch * options.Epochs, step = 0;
        var shuffleRng = new DeterministicRandom(options.Seed ^ 0x5EED_5EED_5EED_5EEDUL);
        var augmentRng = new DeterministicRandom(options.Seed ^ 0xA06_A06_A06UL);
        var clock = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            shuffleRng.Shuffle(order);
            double lossSum = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int batch = Math.Min(batchSize, order.Length - start);

                float[] x = activations[0];
                byte[] labels = new byte[batch];
                for (int i = 0; i < batch; i++)
                {
                    int index = order[start + i];
                    labels[i] = data.Labels[index];
                    Span<float> row = x.AsSpan(i * ImageInput.PixelCount, ImageInput.PixelCount);
                    if (options.Augment) Augmenter.Distort(data.Image(index), row, augmentRng, options);
                    else ImageInput.ToInput(data.Image(index), row);
                }

                Forward(model, activations, batch, parallel);
                lossSum += OutputDelta(activations[layers], deltas[layers], labels, batch);
                Backward(model, activations, deltas, gradW, gradB, batch, parallel);

                float lr = options.LearningRate * 0.5f * (1f + MathF.Cos(MathF.PI * step / totalSteps));
                Update(model, gradW, gradB, velW, velB, lr, parallel);
                step++;
            }

            double? accuracy = heldOutIndices is { Count: > 0 } && progress is not null ? Evaluate(model, data, heldOutIndices) : null;
            progress?.Invoke(new EpochReport(epoch, options.Epochs, lossSum / order.Length, accuracy, clock.Elapsed));
        }

        return model;
    }

    /// <summary>Fraction of <paramref name="indices"/> whose most likely label is right (the trainer's own forward pass).</summary>
    public static double Evaluate(MlpModel model, MnistDataset data, IReadOnlyList<int> indices)
    {
        float[] probabilities = Probabilities(model, data, indices);
        int correct = 0;
        for (int i = 0; i < indices.Count; i++)
        {
            int predicted = TensorPrimitives.IndexOfMax(probabilities.AsSpan(i * MnistDataset.ClassCount, MnistDataset.ClassCount));
            if (predicted == data.Labels[indices[i]]) correct++;
        }

        return (double)correct / indices.Count;
    }

    /// <summary>The trainer's softmax outputs for the given images, [count, classes].</summary>
    public static float[] Probabilities(MlpModel model, MnistDataset data, IReadOnlyList<int> indices)
    {
        const int chunk = 256;
        var probabilities = new float[indices.Count * model.OutputSize];
        var activations = new float[model.LayerCount + 1][];
        for (int l = 0; l <= model.LayerCount; l++) activations[l] = new float[chunk * model.Dims[l]];
        var sequential = new ParallelOptions { MaxDegreeOfParallelism = 1 };
        for (int start = 0; start < indices.Count; start += chunk)
        {
            int batch = Math.Min(chunk, indices.Count - start);
            for (int i = 0; i < batch; i++)
            {
                ImageInput.ToInput(data.Image(indices[start + i]), activations[0].AsSpan(i * ImageInput.PixelCount, ImageInput.PixelCount));
            }

            Forward(model, activations, batch, sequential);
            activations[model.LayerCount].AsSpan(0, batch * model.OutputSize).CopyTo(probabilities.AsSpan(start * model.OutputSize));
        }

        return probabilities;
    }

    private static void Forward(MlpModel model, float[][] activations, int batch, ParallelOptions parallel)
    {
        for (int l = 0; l < model.LayerCount; l++)
        {
            int inSize = model.Dims[l], outSize = model.Dims[l + 1];
            float[] x = activations[l], y = activations[l + 1], w = model.Weights[l], bias = model.Biases[l];
            ForRows(outSize, parallel, (j0, j1) =>
                MlpModel.DenseForward(x, batch, inSize, w, bias, outSize, y, j0, j1));

            Span<float> output = y.AsSpan(0, batch * outSize);
            if (l < model.LayerCount - 1)
            {
                TensorPrimitives.Max(output, 0f, output);
            }
            else
            {
                for (int b = 0; b < batch; b++)
                {
                    Span<float> row = output.Slice(b * outSize, outSize);
                    TensorPrimitives.SoftMax(row, row);
                }
            }
        }
    }

    /// <summary>Softmax cross-entropy: the error at the logits is (p - onehot) / batch. Returns the summed loss.</summary>
    private static double OutputDelta(float[] probabilities, float[] delta, byte[] labels, int batch)
    {
        int classes = MnistDataset.ClassCount;
        double loss = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < classes; k++)
            {
                float p = probabilities[b * classes + k];
                float target = k == labels[b] ? 1f : 0f;
                delta[b * classes + k] = (p - target) / batch;
            }
            loss -= Math.Log(Math.Max(probabilities[b * classes + labels[b]], 1e-12f));
        }
        return loss;
    }

    private static void Backward(MlpModel model, float[][] activations, float[][] deltas, float[][] gradW, float[][] gradB, int batch, ParallelOptions parallel)
    {
        for (int l = model.LayerCount - 1; l >= 0; l--)
        {
            int inSize = model.Dims[l], outSize = model.Dims[l + 1];
            float[] x = activations[l], dOut = deltas[l + 1], w = model.Weights[l], gw = gradW[l], gb = gradB[l];

            // dW[j, :] = sum_b dOut[b, j] * x[b, :]; one thread owns each row j.
            ForRows(outSize, parallel, (j0, j1) =>
            {
                for (int j = j0; j < j1; j++)
                {
                    Span<float> row = gw.AsSpan(j * inSize, inSize);
                    row.Clear();
                    float biasSum = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        float d = dOut[b * outSize + j];
                        if (d == 0f) continue; // ReLU zeros most hidden errors
                        TensorPrimitives.MultiplyAdd(x.AsSpan(b * inSize, inSize), d, row, row);
                        biasSum += d;
                    }
                    gb[j] = biasSum;
                }
            });

            if (l == 0) break;

            // dIn[b, :] = (sum_j dOut[b, j] * W[j, :]) masked by ReLU'; one thread owns each sample b.
            float[] dIn = deltas[l];
            ForRows(batch, parallel, (b0, b1) =>
            {
                for (int b = b0; b < b1; b++)
                {
                    Span<float> row = dIn.AsSpan(b * inSize, inSize);
                    row.Clear();
                    for (int j = 0; j < outSize; j++)
                    {
                        float d = dOut[b * outSize + j];
                        if (d == 0f) continue;
                        TensorPrimitives.MultiplyAdd(w.AsSpan(j * inSize, inSize), d, row, row);
                    }
                    ReadOnlySpan<float> act = x.AsSpan(b * inSize, inSize);
                    for (int i = 0; i < inSize; i++)
                    {
                        if (act[i] <= 0f) row[i] = 0f;
                    }
                }
            });
        }
    }

    private void Update(MlpModel model, float[][] gradW, float[][] gradB, float[][] velW, float[][] velB, float lr, ParallelOptions parallel)
    {
        float momentum = options.Momentum, decay = options.WeightDecay;
        for (int l = 0; l < model.LayerCount; l++)
        {
            int inSize = model.Dims[l];
            float[] w = model.Weights[l], gw = gradW[l], vw = velW[l];
            ForRows(model.Dims[l + 1], parallel, (j0, j1) =>
            {
                int offset = j0 * inSize, length = (j1 - j0) * inSize;
                Span<float> ws = w.AsSpan(offset, length), gs = gw.AsSpan(offset, length), vs = vw.AsSpan(offset, length);
                TensorPrimitives.MultiplyAdd(ws, decay, gs, gs);   // g += decay * w
                TensorPrimitives.Multiply(vs, momentum, vs);        // v = momentum * v
                TensorPrimitives.MultiplyAdd(gs, -lr, vs, vs);      // v -= lr * g
                TensorPrimitives.Add(ws, vs, ws);                   // w += v
            });

            Span<float> bias = model.Biases[l], gb = gradB[l], vb = velB[l];
            TensorPrimitives.Multiply(vb, momentum, vb);
            TensorPrimitives.MultiplyAdd(gb, -lr, vb, vb);
            TensorPrimitives.Add(bias, vb, bias);
        }
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) in contiguous chunks, in parallel when there is enough work.</summary>
    private static void ForRows(int count, ParallelOptions parallel, Action<int, int> body)
    {
        int workers = parallel.MaxDegreeOfParallelism;
        if (workers <= 1 || count < ParallelThreshold)
        {
            body(0, count);
            return;
        }
        int chunks = Math.Min(count, workers * 4);
        Parallel.For(0, chunks, parallel, c =>
        {
            int start = (int)((long)count * c / chunks), end = (int)((long)count * (c + 1) / chunks);
            body(start, end);
        });
    }
}
