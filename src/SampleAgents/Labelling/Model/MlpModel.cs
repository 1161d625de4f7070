using System.Numerics.Tensors;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.SampleAgents.Labelling.Model;

/// <summary>
/// A fully connected network: <c>Dims[0]</c> inputs, ReLU hidden layers, <c>Dims[^1]</c> softmax outputs.
/// Layer <c>l</c> holds a row-major weight matrix <c>[Dims[l+1], Dims[l]]</c> (one row per output neuron,
/// so a neuron's activation is one contiguous dot product) and a bias vector <c>[Dims[l+1]]</c>.
/// Immutable once handed to a <see cref="DigitLabeller"/>; only the trainer writes the arrays.
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
    /// The weight row is the outer loop so it stays in L1 while every input of the batch streams past it:
    /// that reuse is why a batch costs less per image than single calls.
    /// </summary>
    public static void DenseForward(
        ReadOnlySpan<float> x, int batch, int inSize,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int outSize,
        Span<float> y, int rowStart, int rowEnd)
    {
        for (int j = rowStart; j < rowEnd; j++)
        {
            ReadOnlySpan<float> w = weights.Slice(j * inSize, inSize);
            float b0 = bias[j];
            for (int b = 0; b < batch; b++)
            {
                y[b * outSize + j] = TensorPrimitives.Dot(x.Slice(b * inSize, inSize), w) + b0;
            }
        }
    }
}
