namespace Aicp.SampleAgents.Onnx;

/// <summary>A float32 tensor the model declares as an input or output: its name and dimensions (-1 where the model leaves one free).</summary>
public sealed record TensorSpec(string Name, long[] Dimensions)
{
    /// <summary>The shape as people read it, e.g. <c>[N,1,28,28]</c> (N for a free dimension).</summary>
    public string ShapeText => "[" + string.Join(",", Dimensions.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    public override string ToString() => $"{Name} float32 {ShapeText}";
}

/// <summary>A float32 tensor's values with its shape (row-major).</summary>
public sealed record FloatTensor(string Name, long[] Shape, float[] Data)
{
    /// <summary>The number of elements the shape holds.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        return count;
    }
}
