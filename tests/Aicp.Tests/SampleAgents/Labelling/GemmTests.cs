using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.Tests.SampleAgents.Labelling;

public class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 25, 784)]   // conv1 forward
    [InlineData(32, 400, 100)] // conv2 forward: 16-, 8- and 4-wide column blocks
    [InlineData(7, 13, 29)]    // row tail, every column tail
    [InlineData(400, 32, 100)]
    [InlineData(8, 800, 128)]
    [InlineData(3, 5, 3)]
    public void Multiply_AnyShape_MatchesNaiveProductAndAccumulates(int m, int k, int n)
    {
        var rng = new Random(m * 10_000 + k * 100 + n);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] initial = Enumerable.Range(0, m * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var c = new float[m * n];
        float[] accumulated = (float[])initial.Clone();

        Gemm.Multiply(a, b, c, m, k, n);
        Gemm.Multiply(a, b, accumulated, m, k, n, accumulate: true);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int p = 0; p < k; p++) expected += (double)a[i * k + p] * b[p * n + j];
                Assert.Equal(expected, c[i * n + j], 1e-4 * Math.Max(1, k));
                Assert.Equal(expected + initial[i * n + j], accumulated[i * n + j], 1e-4 * Math.Max(1, k));
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(25, 784)]
    [InlineData(17, 33)]
    public void Transpose_Twice_Identity(int rows, int cols)
    {
        float[] source = Enumerable.Range(0, rows * cols).Select(i => (float)i).ToArray();
        var once = new float[source.Length];
        var twice = new float[source.Length];

        Gemm.Transpose(source, once, rows, cols);
        Gemm.Transpose(once, twice, cols, rows);

        Assert.Equal(source[cols - 1], once[(cols - 1) * rows]);
        Assert.Equal(source, twice);
    }
}
