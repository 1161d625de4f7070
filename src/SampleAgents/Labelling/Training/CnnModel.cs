namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// The digit network the trainer builds, LeNet-shaped, for 1x28x28 inputs scaled to [0, 1]:
/// <code>
/// conv 5x5, C1 filters, pad 2 -> ReLU -> max-pool 2x2   (C1 x 14 x 14)
/// conv 5x5, C2 filters, no pad -> ReLU -> max-pool 2x2  (C2 x 5 x 5)
/// flatten -> dense H -> ReLU -> dense 10                (logits)
/// </code>
/// Layouts are ONNX's, so the arrays are written to the model file as they are: convolution weights
/// <c>[Cout, Cin, 5, 5]</c>, dense weights <c>[in, out]</c> (ONNX <c>Gemm</c> without transposition), flattening in
/// channel, row, column order. Only the trainer writes the arrays.
/// </summary>
internal sealed class CnnModel
{
    public const int Side = 28;
    public const int Kernel = 5;
    public const int Classes = 10;
    public const int Conv1Side = Side;                       // 28: padding 2 keeps the size
    public const int Pool1Side = Conv1Side / 2;              // 14
    public const int Conv2Side = Pool1Side - Kernel + 1;     // 10: no padding
    public const int Pool2Side = Conv2Side / 2;              // 5

    public CnnModel(int channels1, int channels2, int hidden, float[][] parameters)
    {
        if (channels1 < 1 || channels2 < 1 || hidden < 1)
        {
            throw new ArgumentException("Channel and hidden widths must be >= 1.");
        }

        Channels1 = channels1;
        Channels2 = channels2;
        Hidden = hidden;
        int[] lengths = ParameterLengths(channels1, channels2, hidden);
        if (parameters.Length != lengths.Length || parameters.Where((p, i) => p.Length != lengths[i]).Any())
        {
            throw new ArgumentException($"Parameters do not match {channels1},{channels2},{hidden}.");
        }

        Parameters = parameters;
    }

    public int Channels1 { get; }

    public int Channels2 { get; }

    public int Hidden { get; }

    /// <summary>Inputs of the first dense layer: C2 x 5 x 5.</summary>
    public int Flattened => Channels2 * Pool2Side * Pool2Side;

    /// <summary>conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc1.weight, fc1.bias, fc2.weight, fc2.bias.</summary>
    public float[][] Parameters { get; }

    public float[] Conv1Weight => Parameters[0];
    public float[] Conv1Bias => Parameters[1];
    public float[] Conv2Weight => Parameters[2];
    public float[] Conv2Bias => Parameters[3];
    public float[] Fc1Weight => Parameters[4];
    public float[] Fc1Bias => Parameters[5];
    public float[] Fc2Weight => Parameters[6];
    public float[] Fc2Bias => Parameters[7];

    /// <summary>Names of <see cref="Parameters"/> in the model file.</summary>
    public static IReadOnlyList<string> ParameterNames { get; } =
        ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

    /// <summary>Whether parameter <c>i</c> is a weight (L2-decayed) rather than a bias.</summary>
    public static bool IsWeight(int i) => i % 2 == 0;

    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    public string Architecture => $"conv5x5x{Channels1}-pool-conv5x5x{Channels2}-pool-{Hidden}-{Classes}";

    /// <summary>The shape of each parameter in the model file.</summary>
    public long[][] ParameterShapes =>
    [
        [Channels1, 1, Kernel, Kernel], [Channels1],
        [Channels2, Channels1, Kernel, Kernel], [Channels2],
        [Flattened, Hidden], [Hidden],
        [Hidden, Classes], [Classes],
    ];

    /// <summary>He-uniform weights (limit sqrt(6 / fan-in), suited to ReLU), zero biases; the same seed gives the same model.</summary>
    public static CnnModel CreateInitial(int channels1, int channels2, int hidden, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        int[] lengths = ParameterLengths(channels1, channels2, hidden);
        int[] fanIn = [Kernel * Kernel, 0, channels1 * Kernel * Kernel, 0, channels2 * Pool2Side * Pool2Side, 0, hidden, 0];
        var parameters = new float[lengths.Length][];
        for (int i = 0; i < lengths.Length; i++)
        {
            parameters[i] = new float[lengths[i]];
            if (IsWeight(i))
            {
                float limit = MathF.Sqrt(6f / fanIn[i]);
                for (int j = 0; j < parameters[i].Length; j++)
                {
                    parameters[i][j] = (rng.NextSingle() * 2f - 1f) * limit;
                }
            }
        }

        return new CnnModel(channels1, channels2, hidden, parameters);
    }

    /// <summary>
    /// The trainer's own forward pass: logits for <paramref name="count"/> images of 784 values in [0, 1]. Images are
    /// independent, so they are spread over up to <paramref name="threads"/> threads without changing any result.
    /// </summary>
    public void Forward(ReadOnlySpan<float> images, int count, Span<float> logits, int threads = 1)
    {
        if (images.Length < count * Side * Side || logits.Length < count * Classes)
        {
            throw new ArgumentException("Spans too small for the batch.");
        }

        float[] input = images[..(count * Side * Side)].ToArray();
        var output = new float[count * Classes];
        int chunks = (count + CnnPass.MaxSamples - 1) / CnnPass.MaxSamples;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => new CnnPass(this), (chunk, _, pass) =>
        {
            int start = chunk * CnnPass.MaxSamples;
            int n = Math.Min(CnnPass.MaxSamples, count - start);
            pass.Forward(input.AsSpan(start * Side * Side, n * Side * Side), n, dropoutMask: default);
            pass.Logits.AsSpan(0, n * Classes).CopyTo(output.AsSpan(start * Classes));
            return pass;
        }, _ => { });
        output.CopyTo(logits);
    }

    private static int[] ParameterLengths(int c1, int c2, int hidden) =>
    [
        c1 * Kernel * Kernel, c1,
        c2 * c1 * Kernel * Kernel, c2,
        c2 * Pool2Side * Pool2Side * hidden, hidden,
        hidden * Classes, Classes,
    ];
}
