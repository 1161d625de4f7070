using System.Numerics.Tensors;

namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// One forward and backward pass of a <see cref="CnnModel"/> over up to <see cref="MaxSamples"/> images, keeping the
/// activations the backward pass needs. Convolutions are im2col + <see cref="Gemm"/> per image; the dense layers are
/// one product for all images of the pass. Not thread-safe: each thread uses its own pass.
/// </summary>
internal sealed class CnnPass
{
    /// <summary>Images per pass. Fixed, so the grouping of the sums — and hence the trained weights — does not depend on thread count.</summary>
    public const int MaxSamples = 8;

    private const int K = CnnModel.Kernel;
    private const int Pixels = CnnModel.Side * CnnModel.Side;                      // 784
    private const int Conv1Area = CnnModel.Conv1Side * CnnModel.Conv1Side;         // 784
    private const int Pool1Area = CnnModel.Pool1Side * CnnModel.Pool1Side;         // 196
    private const int Conv2Area = CnnModel.Conv2Side * CnnModel.Conv2Side;         // 100
    private const int Pool2Area = CnnModel.Pool2Side * CnnModel.Pool2Side;         // 25

    private readonly CnnModel _model;
    private readonly int _c1, _c2, _h, _f, _patch2;

    // Activations, per image unless noted.
    private readonly float[] _input;       // [S, 784]
    private readonly float[] _col1;        // [S][25, 784]
    private readonly float[] _conv1;       // [S][C1, 784] after ReLU
    private readonly int[] _pool1Index;    // [S][C1 * 196]: position of each maximum within the image's conv1
    private readonly float[] _pool1;       // [S][C1, 14, 14]
    private readonly float[] _col2;        // [S][C1 * 25, 100]
    private readonly float[] _conv2;       // [S][C2, 100] after ReLU
    private readonly int[] _pool2Index;    // [S][C2 * 25]
    private readonly float[] _flat;        // [S, C2 * 25]: the dense input
    private readonly float[] _hidden;      // [S, H] after ReLU and dropout
    private readonly float[] _dropout;     // [S, H]: the multiplier each hidden unit got (0 or 1 / keep), 1 without dropout

    // Backward scratch.
    private readonly float[] _hiddenT, _flatT, _dHidden, _dFlat;
    private readonly float[] _dConv2, _col2T, _dCol2, _dPool1, _dConv1, _col1T;

    public CnnPass(CnnModel model)
    {
        _model = model;
        _c1 = model.Channels1;
        _c2 = model.Channels2;
        _h = model.Hidden;
        _f = model.Flattened;
        _patch2 = _c1 * K * K;
        const int s = MaxSamples;
        _input = new float[s * Pixels];
        _col1 = new float[s * K * K * Conv1Area];
        _conv1 = new float[s * _c1 * Conv1Area];
        _pool1Index = new int[s * _c1 * Pool1Area];
        _pool1 = new float[s * _c1 * Pool1Area];
        _col2 = new float[s * _patch2 * Conv2Area];
        _conv2 = new float[s * _c2 * Conv2Area];
        _pool2Index = new int[s * _c2 * Pool2Area];
        _flat = new float[s * _f];
        _hidden = new float[s * _h];
        _dropout = new float[s * _h];
        Logits = new float[s * CnnModel.Classes];
        _hiddenT = new float[s * _h];
        _flatT = new float[s * _f];
        _dHidden = new float[s * _h];
        _dFlat = new float[s * _f];
        _dConv2 = new float[_c2 * Conv2Area];
        _col2T = new float[_patch2 * Conv2Area];
        _dCol2 = new float[_patch2 * Conv2Area];
        _dPool1 = new float[_c1 * Pool1Area];
        _dConv1 = new float[_c1 * Conv1Area];
        _col1T = new float[K * K * Conv1Area];
    }

    /// <summary>The model this pass was built for.</summary>
    public CnnModel Model => _model;

    /// <summary>Images in the last forward pass.</summary>
    public int Count { get; private set; }

    /// <summary>[Count, 10] logits of the last forward pass.</summary>
    public float[] Logits { get; }

    /// <summary>
    /// Forward pass of <paramref name="count"/> images (784 values each). <paramref name="dropoutMask"/>, when not
    /// empty, holds one multiplier per hidden unit and image (0 to drop, 1 / keep-probability to keep).
    /// </summary>
    public void Forward(ReadOnlySpan<float> images, int count, ReadOnlySpan<float> dropoutMask)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxSamples);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Count = count;
        images[..(count * Pixels)].CopyTo(_input);
        for (int s = 0; s < count; s++)
        {
            ConvForward(s);
        }

        Span<float> hidden = _hidden.AsSpan(0, count * _h);
        Gemm.Multiply(_flat.AsSpan(0, count * _f), _model.Fc1Weight, hidden, count, _f, _h);
        for (int s = 0; s < count; s++)
        {
            Span<float> row = hidden.Slice(s * _h, _h);
            TensorPrimitives.Add(row, _model.Fc1Bias, row);
            TensorPrimitives.Max(row, 0f, row);
        }

        Span<float> mask = _dropout.AsSpan(0, count * _h);
        if (dropoutMask.IsEmpty)
        {
            mask.Fill(1f);
        }
        else
        {
            dropoutMask[..(count * _h)].CopyTo(mask);
            TensorPrimitives.Multiply(hidden, mask, hidden);
        }

        Span<float> logits = Logits.AsSpan(0, count * CnnModel.Classes);
        Gemm.Multiply(hidden, _model.Fc2Weight, logits, count, _h, CnnModel.Classes);
        for (int s = 0; s < count; s++)
        {
            Span<float> row = logits.Slice(s * CnnModel.Classes, CnnModel.Classes);
            TensorPrimitives.Add(row, _model.Fc2Bias, row);
        }
    }

    /// <summary>
    /// Back-propagates <paramref name="dLogits"/> ([Count, 10], the loss gradient at the logits) through the last
    /// forward pass and adds the parameter gradients to <paramref name="gradients"/> (shaped like <see cref="CnnModel.Parameters"/>).
    /// </summary>
    public void Backward(ReadOnlySpan<float> dLogits, CnnTransposedWeights transposed, float[][] gradients)
    {
        int n = Count;
        const int classes = CnnModel.Classes;
        ReadOnlySpan<float> dOut = dLogits[..(n * classes)];

        // Dense 2: dW += hidden^T · dLogits, db += column sums, dHidden = dLogits · W^T.
        Gemm.Transpose(_hidden.AsSpan(0, n * _h), _hiddenT, n, _h);
        Gemm.Multiply(_hiddenT, dOut, gradients[6], _h, n, classes, accumulate: true);
        for (int s = 0; s < n; s++)
        {
            TensorPrimitives.Add(gradients[7], dOut.Slice(s * classes, classes), gradients[7]);
        }

        Span<float> dHidden = _dHidden.AsSpan(0, n * _h);
        Gemm.Multiply(dOut, transposed.Fc2, dHidden, n, classes, _h);
        for (int i = 0; i < dHidden.Length; i++)
        {
            // A unit that is 0 after ReLU and dropout passed no gradient; a kept one passes it scaled like its value.
            dHidden[i] = _hidden[i] > 0f ? dHidden[i] * _dropout[i] : 0f;
        }

        // Dense 1.
        Gemm.Transpose(_flat.AsSpan(0, n * _f), _flatT, n, _f);
        Gemm.Multiply(_flatT, dHidden, gradients[4], _f, n, _h, accumulate: true);
        for (int s = 0; s < n; s++)
        {
            TensorPrimitives.Add(gradients[5], dHidden.Slice(s * _h, _h), gradients[5]);
        }

        Gemm.Multiply(dHidden, transposed.Fc1, _dFlat.AsSpan(0, n * _f), n, _h, _f);
        for (int s = 0; s < n; s++)
        {
            ConvBackward(s, transposed, gradients);
        }
    }

    private void ConvForward(int s)
    {
        ReadOnlySpan<float> image = _input.AsSpan(s * Pixels, Pixels);
        Span<float> col1 = _col1.AsSpan(s * K * K * Conv1Area, K * K * Conv1Area);
        Im2Col(image, 1, CnnModel.Side, pad: 2, CnnModel.Conv1Side, col1);
        Span<float> conv1 = _conv1.AsSpan(s * _c1 * Conv1Area, _c1 * Conv1Area);
        Gemm.Multiply(_model.Conv1Weight, col1, conv1, _c1, K * K, Conv1Area);
        BiasRelu(conv1, _model.Conv1Bias, _c1, Conv1Area);
        Span<float> pool1 = _pool1.AsSpan(s * _c1 * Pool1Area, _c1 * Pool1Area);
        MaxPool(conv1, _c1, CnnModel.Conv1Side, pool1, _pool1Index.AsSpan(s * _c1 * Pool1Area, _c1 * Pool1Area));

        Span<float> col2 = _col2.AsSpan(s * _patch2 * Conv2Area, _patch2 * Conv2Area);
        Im2Col(pool1, _c1, CnnModel.Pool1Side, pad: 0, CnnModel.Conv2Side, col2);
        Span<float> conv2 = _conv2.AsSpan(s * _c2 * Conv2Area, _c2 * Conv2Area);
        Gemm.Multiply(_model.Conv2Weight, col2, conv2, _c2, _patch2, Conv2Area);
        BiasRelu(conv2, _model.Conv2Bias, _c2, Conv2Area);
        MaxPool(conv2, _c2, CnnModel.Conv2Side, _flat.AsSpan(s * _f, _f), _pool2Index.AsSpan(s * _c2 * Pool2Area, _c2 * Pool2Area));
    }

    private void ConvBackward(int s, CnnTransposedWeights transposed, float[][] gradients)
    {
        // Pool 2 and ReLU 2: each pooled gradient goes to the position of its maximum, if that was positive.
        Span<float> dConv2 = _dConv2;
        dConv2.Clear();
        ReadOnlySpan<float> dFlat = _dFlat.AsSpan(s * _f, _f);
        ReadOnlySpan<int> index2 = _pool2Index.AsSpan(s * _c2 * Pool2Area, _c2 * Pool2Area);
        ReadOnlySpan<float> conv2 = _conv2.AsSpan(s * _c2 * Conv2Area, _c2 * Conv2Area);
        for (int t = 0; t < index2.Length; t++)
        {
            int at = index2[t];
            if (conv2[at] > 0f)
            {
                dConv2[at] += dFlat[t];
            }
        }

        AddRowSums(dConv2, _c2, Conv2Area, gradients[3]);
        ReadOnlySpan<float> col2 = _col2.AsSpan(s * _patch2 * Conv2Area, _patch2 * Conv2Area);
        Gemm.Transpose(col2, _col2T, _patch2, Conv2Area);
        Gemm.Multiply(dConv2, _col2T, gradients[2], _c2, Conv2Area, _patch2, accumulate: true);

        // Conv 2 input gradient: dCol = W2^T · dConv2, folded back onto the 14x14 maps.
        Gemm.Multiply(transposed.Conv2, dConv2, _dCol2, _patch2, _c2, Conv2Area);
        _dPool1.AsSpan().Clear();
        Col2Im(_dCol2, _c1, CnnModel.Pool1Side, pad: 0, CnnModel.Conv2Side, _dPool1);

        // Pool 1 and ReLU 1.
        Span<float> dConv1 = _dConv1;
        dConv1.Clear();
        ReadOnlySpan<int> index1 = _pool1Index.AsSpan(s * _c1 * Pool1Area, _c1 * Pool1Area);
        ReadOnlySpan<float> conv1 = _conv1.AsSpan(s * _c1 * Conv1Area, _c1 * Conv1Area);
        for (int t = 0; t < index1.Length; t++)
        {
            int at = index1[t];
            if (conv1[at] > 0f)
            {
                dConv1[at] += _dPool1[t];
            }
        }

        AddRowSums(dConv1, _c1, Conv1Area, gradients[1]);
        ReadOnlySpan<float> col1 = _col1.AsSpan(s * K * K * Conv1Area, K * K * Conv1Area);
        Gemm.Transpose(col1, _col1T, K * K, Conv1Area);
        Gemm.Multiply(dConv1, _col1T, gradients[0], _c1, Conv1Area, K * K, accumulate: true);
    }

    /// <summary>
    /// Unfolds <paramref name="channels"/> maps of <paramref name="side"/>² into columns for a 5x5 convolution with
    /// <paramref name="pad"/> zero padding and <paramref name="outSide"/>² outputs: row <c>(c, ky, kx)</c>, column
    /// <c>(oy, ox)</c> holds input <c>(c, oy + ky - pad, ox + kx - pad)</c>, or 0 outside the map.
    /// </summary>
    internal static void Im2Col(ReadOnlySpan<float> input, int channels, int side, int pad, int outSide, Span<float> col)
    {
        int outArea = outSide * outSide;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> map = input.Slice(c * side * side, side * side);
            for (int ky = 0; ky < K; ky++)
            {
                for (int kx = 0; kx < K; kx++)
                {
                    Span<float> row = col.Slice(((c * K + ky) * K + kx) * outArea, outArea);
                    for (int oy = 0; oy < outSide; oy++)
                    {
                        int iy = oy + ky - pad;
                        Span<float> target = row.Slice(oy * outSide, outSide);
                        if ((uint)iy >= (uint)side)
                        {
                            target.Clear();
                            continue;
                        }

                        int x0 = kx - pad; // input column of output column 0
                        int first = Math.Max(0, -x0), last = Math.Min(outSide, side - x0);
                        target[..first].Clear();
                        map.Slice(iy * side + x0 + first, last - first).CopyTo(target[first..last]);
                        target[last..].Clear();
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds each column entry back onto the input position it came from.</summary>
    internal static void Col2Im(ReadOnlySpan<float> col, int channels, int side, int pad, int outSide, Span<float> input)
    {
        int outArea = outSide * outSide;
        for (int c = 0; c < channels; c++)
        {
            Span<float> map = input.Slice(c * side * side, side * side);
            for (int ky = 0; ky < K; ky++)
            {
                for (int kx = 0; kx < K; kx++)
                {
                    ReadOnlySpan<float> row = col.Slice(((c * K + ky) * K + kx) * outArea, outArea);
                    for (int oy = 0; oy < outSide; oy++)
                    {
                        int iy = oy + ky - pad;
                        if ((uint)iy >= (uint)side)
                        {
                            continue;
                        }

                        int x0 = kx - pad;
                        int first = Math.Max(0, -x0), last = Math.Min(outSide, side - x0);
                        Span<float> target = map.Slice(iy * side + x0 + first, last - first);
                        TensorPrimitives.Add(target, row.Slice(oy * outSide + first, last - first), target);
                    }
                }
            }
        }
    }

    /// <summary>2x2 max-pooling with stride 2; <paramref name="index"/> gets the position of each maximum (first in scan order on ties).</summary>
    internal static void MaxPool(ReadOnlySpan<float> input, int channels, int side, Span<float> output, Span<int> index)
    {
        int half = side / 2;
        for (int c = 0; c < channels; c++)
        {
            int mapStart = c * side * side;
            for (int y = 0; y < half; y++)
            {
                for (int x = 0; x < half; x++)
                {
                    int at = mapStart + 2 * y * side + 2 * x;
                    int best = at;
                    if (input[at + 1] > input[best]) best = at + 1;
                    if (input[at + side] > input[best]) best = at + side;
                    if (input[at + side + 1] > input[best]) best = at + side + 1;
                    int o = (c * half + y) * half + x;
                    output[o] = input[best];
                    index[o] = best;
                }
            }
        }
    }

    private static void BiasRelu(Span<float> maps, ReadOnlySpan<float> bias, int channels, int area)
    {
        for (int c = 0; c < channels; c++)
        {
            Span<float> map = maps.Slice(c * area, area);
            TensorPrimitives.Add(map, bias[c], map);
            TensorPrimitives.Max(map, 0f, map);
        }
    }

    private static void AddRowSums(ReadOnlySpan<float> maps, int channels, int area, Span<float> sums)
    {
        for (int c = 0; c < channels; c++)
        {
            sums[c] += TensorPrimitives.Sum(maps.Slice(c * area, area));
        }
    }
}

/// <summary>The transposed weight matrices the backward pass multiplies by; rebuilt once per step after the update.</summary>
internal sealed class CnnTransposedWeights
{
    private readonly CnnModel _model;

    public CnnTransposedWeights(CnnModel model)
    {
        _model = model;
        Conv2 = new float[model.Channels2 * model.Channels1 * CnnModel.Kernel * CnnModel.Kernel];
        Fc1 = new float[model.Flattened * model.Hidden];
        Fc2 = new float[model.Hidden * CnnModel.Classes];
        Update();
    }

    /// <summary>conv2.weight as [C1 * 25, C2].</summary>
    public float[] Conv2 { get; }

    /// <summary>fc1.weight as [H, C2 * 25].</summary>
    public float[] Fc1 { get; }

    /// <summary>fc2.weight as [10, H].</summary>
    public float[] Fc2 { get; }

    public void Update()
    {
        Gemm.Transpose(_model.Conv2Weight, Conv2, _model.Channels2, _model.Channels1 * CnnModel.Kernel * CnnModel.Kernel);
        Gemm.Transpose(_model.Fc1Weight, Fc1, _model.Flattened, _model.Hidden);
        Gemm.Transpose(_model.Fc2Weight, Fc2, _model.Hidden, CnnModel.Classes);
    }
}
