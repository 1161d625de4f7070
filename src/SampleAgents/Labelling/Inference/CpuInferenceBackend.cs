using System.Buffers;
using System.Numerics.Tensors;
using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.SampleAgents.Labelling.Inference;

/// <summary>
/// Forward pass on the CPU with <see cref="TensorPrimitives"/> (SIMD dot products, ReLU, softmax).
/// Single-threaded per call: a server gets its parallelism from concurrent requests, and a batch already
/// amortises weight loads. Thread-safe: the model is read-only and scratch space is per call.
/// </summary>
internal sealed class CpuInferenceBackend(MlpModel model) : IInferenceBackend
{
    public const string BackendName = "cpu";
    private const int StackScratchLimit = 2048;

    public string Name => BackendName;

    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> probabilities)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (input.Length < batch * model.InputSize || probabilities.Length < batch * model.OutputSize)
        {
            throw new ArgumentException("Input or output span is too small for the batch.");
        }

        int scratchLength = batch * model.MaxWidth;
        float[]? rentedA = null, rentedB = null;
        Span<float> a = scratchLength <= StackScratchLimit ? stackalloc float[scratchLength] : (rentedA = ArrayPool<float>.Shared.Rent(scratchLength));
        Span<float> b = scratchLength <= StackScratchLimit ? stackalloc float[scratchLength] : (rentedB = ArrayPool<float>.Shared.Rent(scratchLength));
        try
        {
            scoped ReadOnlySpan<float> x = input[..(batch * model.InputSize)];
            for (int l = 0; l < model.LayerCount; l++)
            {
                int inSize = model.Dims[l], outSize = model.Dims[l + 1];
                bool last = l == model.LayerCount - 1;
                Span<float> y = last ? probabilities[..(batch * outSize)] : (l % 2 == 0 ? a : b)[..(batch * outSize)];
                MlpModel.DenseForward(x, batch, inSize, model.Weights[l], model.Biases[l], outSize, y, 0, outSize);
                if (last)
                {
                    for (int i = 0; i < batch; i++)
                    {
                        Span<float> row = y.Slice(i * outSize, outSize);
                        TensorPrimitives.SoftMax(row, row);
                    }
                }
                else
                {
                    TensorPrimitives.Max(y, 0f, y); // ReLU
                }
                x = y;
            }
        }
        finally
        {
            if (rentedA is not null) ArrayPool<float>.Shared.Return(rentedA);
            if (rentedB is not null) ArrayPool<float>.Shared.Return(rentedB);
        }
    }

    public void Dispose()
    {
    }
}
