using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.Tests.SampleAgents.Labelling;

public class MlpModelTests
{
    [Theory]
    [InlineData(1, 784, 256)]
    [InlineData(4, 784, 10)]
    [InlineData(7, 13, 5)]     // odd everything: vector tail, odd row, batch tail
    [InlineData(64, 100, 33)]
    public void DenseForward_BlockedAndPerRow_MatchNaiveProduct(int batch, int inSize, int outSize)
    {
        var rng = new Random(batch * 1000 + inSize);
        float[] x = Enumerable.Range(0, batch * inSize).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] w = Enumerable.Range(0, outSize * inSize).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] bias = Enumerable.Range(0, outSize).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = new float[batch * outSize];

        MlpModel.DenseForward(x, batch, inSize, w, bias, outSize, y, 0, outSize);

        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < outSize; j++)
            {
                double expected = bias[j];
                for (int i = 0; i < inSize; i++) expected += (double)x[b * inSize + i] * w[j * inSize + i];
                Assert.Equal(expected, y[b * outSize + j], tolerance: 1e-3);
            }
        }
    }
}
