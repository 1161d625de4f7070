using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// A fully connected network: <c>Dims[0]</c> inputs, ReLU hidden layers, <c>Dims[^1]</c> softmax outputs.
/// Layer <c>l</c> holds a row-major weight matrix <c>[Dims[l+1], Dims[l]]</c> (one row per output neuron,
/// so a neuron's activation is one contiguous dot product) and a bias vector <c>[Dims[l+1]]</c>.
/// Written to an ONNX file by <see cref="Export.OnnxExport.Mlp"/>; only the trainer writes the arrays.
/// </summary>
internal sealed class MlpModel
{
    public MlpModel(int[] dims, float[][] weights, float[][] biases)
    {
        if (dims.Length < 2 || weights.Length != dims.Length - 1 || biases.Length != dims.Length - 1)
        {
            throw new ArgumentException("An MLP needs at least one layer and one weight matrix and bias per layer.");
        }
        for (int l = 0; l < dims.Length - 1; l++)
        {
            if (dims[l] <= 0 || dims[l + 1] <= 0 || weights[l].Length != dims[l] * dims[l + 1] || biases[l].Length != dims[l + 1])
            {
                throw new ArgumentException($"Layer {l} does not match dims {string.Join('-', dims)}.");
            }
        }
        Dims = dims;
        Weights = weights;
        Biases = biases;
    }

    public int[] Dims { get; }

    public float[][] Weights { get; }

    public float[][] Biases { get; }

    public int LayerCount => Dims.Length - 1;

    public int InputSize => Dims[0];

    public int OutputSize => Dims[^1];

    public int MaxWidth => Dims.Max();

    public long ParameterCount
    {
        get
        {
            long n = 0;
            for (int l = 0; l < LayerCount; l++) n += Weights[l].Length + Biases[l].Length;
            return n;
        }
    }

    public string Architecture => string.Join('-', Dims);

    /// <summary>He-uniform weights (suited to ReLU), zero biases; the same seed always gives the same model.</summary>
    public static MlpModel CreateInitial(int[] dims, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var weights = new float[dims.Length - 1][];
        var biases = new float[dims.Length - 1][];
        for (int l = 0; l < dims.Length - 1; l++)
        {
            float limit = MathF.Sqrt(6f / dims[l]);
            weights[l] = new float[dims[l] * dims[l + 1]];
            for (int i = 0; i < weights[l].Length; i++)
            {
                weights[l][i] = (rng.NextSingle() * 2f - 1f) * limit;
            }
            biases[l] = new float[dims[l + 1]];
        }
        return new MlpModel((int[])dims.Clone(), weights, biases);
    }

    /// <summary>
    /// <c>y[b, j] = dot(x[b, :], W[j, :]) + bias[j]</c> for output rows <paramref name="rowStart"/>..<paramref name="rowEnd"/>.
    /// For one image this is a <see cref="TensorPrimitives.Dot"/> per neuron. For four or more images it uses
    /// <see cref="DenseForwardBlocked"/>: TensorPrimitives has no multi-row dot product, and a single dot product is
    /// bound by its two loads per multiply-add, so the batched path is what makes a batch cheaper per image.
    /// </summary>
    public static void DenseForward(
        ReadOnlySpan<float> x, int batch, int inSize,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int outSize,
        Span<float> y, int rowStart, int rowEnd)
    {
        int blockedBatch = Vector256.IsHardwareAccelerated && inSize >= Vector256<float>.Count ? batch & ~3 : 0;
        if (blockedBatch > 0)
        {
            DenseForwardBlocked(x, blockedBatch, inSize, weights, bias, outSize, y, rowStart, rowEnd);
        }

        for (int j = rowStart; j < rowEnd; j++)
        {
            ReadOnlySpan<float> w = weights.Slice(j * inSize, inSize);
            float b0 = bias[j];
            for (int b = blockedBatch; b < batch; b++)
            {
                y[b * outSize + j] = TensorPrimitives.Dot(x.Slice(b * inSize, inSize), w) + b0;
            }
        }
    }

    /// <summary>
    /// Register-blocked kernel for the first <paramref name="batch"/> (a multiple of 4) images: 2 weight rows x 4 images
    /// per pass, 8 vector accumulators, so each loaded vector feeds several fused multiply-adds (6 loads per 8 FMAs
    /// instead of 2 per 1). The weight rows stay in L1 while the batch streams past them.
    /// </summary>
    private static void DenseForwardBlocked(
        ReadOnlySpan<float> x, int batch, int inSize,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int outSize,
        Span<float> y, int rowStart, int rowEnd)
    {
        int width = Vector256<float>.Count;
        int vectorEnd = inSize - inSize % width;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(weights);

        int j = rowStart;
        for (; j + 1 < rowEnd; j += 2)
        {
            nuint w0 = (nuint)(j * inSize), w1 = w0 + (nuint)inSize;
            for (int b = 0; b < batch; b += 4)
            {
                nuint x0 = (nuint)(b * inSize), x1 = x0 + (nuint)inSize, x2 = x1 + (nuint)inSize, x3 = x2 + (nuint)inSize;
                Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
                for (nuint i = 0; i < (nuint)vectorEnd; i += (nuint)width)
                {
                    Vector256<float> v0 = Vector256.LoadUnsafe(ref wr, w0 + i), v1 = Vector256.LoadUnsafe(ref wr, w1 + i);
                    Vector256<float> u = Vector256.LoadUnsafe(ref xr, x0 + i);
                    a00 = Vector256.FusedMultiplyAdd(u, v0, a00); a10 = Vector256.FusedMultiplyAdd(u, v1, a10);
                    u = Vector256.LoadUnsafe(ref xr, x1 + i);
                    a01 = Vector256.FusedMultiplyAdd(u, v0, a01); a11 = Vector256.FusedMultiplyAdd(u, v1, a11);
                    u = Vector256.LoadUnsafe(ref xr, x2 + i);
                    a02 = Vector256.FusedMultiplyAdd(u, v0, a02); a12 = Vector256.FusedMultiplyAdd(u, v1, a12);
                    u = Vector256.LoadUnsafe(ref xr, x3 + i);
                    a03 = Vector256.FusedMultiplyAdd(u, v0, a03); a13 = Vector256.FusedMultiplyAdd(u, v1, a13);
                }
                Store(y, outSize, b, j, bias[j], a00, a01, a02, a03, x, weights.Slice((int)w0, inSize), inSize, vectorEnd);
                Store(y, outSize, b, j + 1, bias[j + 1], a10, a11, a12, a13, x, weights.Slice((int)w1, inSize), inSize, vectorEnd);
            }
        }

        for (; j < rowEnd; j++)
        {
            ReadOnlySpan<float> w = weights.Slice(j * inSize, inSize);
            for (int b = 0; b < batch; b++)
            {
                y[b * outSize + j] = TensorPrimitives.Dot(x.Slice(b * inSize, inSize), w) + bias[j];
            }
        }
    }

    private static void Store(
        Span<float> y, int outSize, int b, int j, float bias,
        Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3,
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, int inSize, int vectorEnd)
    {
        ReadOnlySpan<float> sums = [Vector256.Sum(s0), Vector256.Sum(s1), Vector256.Sum(s2), Vector256.Sum(s3)];
        for (int k = 0; k < 4; k++)
        {
            float total = sums[k] + bias;
            int row = (b + k) * inSize;
            for (int i = vectorEnd; i < inSize; i++) total += x[row + i] * w[i];
            y[(b + k) * outSize + j] = total;
        }
    }
}
