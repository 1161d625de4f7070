using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.Tests.SampleAgents.Labelling;

public class DigitLabellerTests
{
    private static readonly Lazy<DigitLabeller> Shipped = new(DigitLabeller.LoadDefault);

    [Fact]
    public void LoadDefault_ShippedModel_AtLeast99PercentOnHeldOutSplit()
    {
        MnistDataset data = MnistTestData.Get();
        byte[] labels = data.TestIndices.Select(i => data.Labels[i]).ToArray();
        byte[] pixels = data.TestIndices.SelectMany(i => data.Image(i).ToArray()).ToArray();

        var (correct, total) = Shipped.Value.Score(pixels, labels);

        Assert.Equal(1996, total);
        Assert.True(correct >= 0.99 * total, $"held-out accuracy {100.0 * correct / total:F2}% ({correct}/{total}) is below 99.0%");
        Assert.StartsWith("conv5x5x", Shipped.Value.Architecture);
        Assert.Equal("cpu", Shipped.Value.Provider);
        Assert.StartsWith("digits.onnx conv5x5x", Shipped.Value.Description);
    }

    [Fact]
    public void LoadDefault_ShippedSample_AtLeast99PercentAndAllHeldOut()
    {
        MnistDataset data = MnistTestData.Get();
        DigitSample sample = DigitSample.LoadDefault();

        var (correct, total) = Shipped.Value.Score(sample.Pixels, sample.Labels);

        Assert.Equal(500, total);
        Assert.True(correct >= 0.99 * total, $"accuracy on the shipped sample {100.0 * correct / total:F2}% ({correct}/{total})");
        var expected = DigitSample.FromHeldOut(data, perClass: 50);
        Assert.Equal(expected.Labels, sample.Labels);
        Assert.Equal(expected.Pixels, sample.Pixels);
    }

    [Fact]
    public void Load_NotADigitsModel_InvalidDataNamingTheShapes()
    {
        var error = Assert.Throws<InvalidDataException>(() => DigitLabeller.Load(Onnx.TestModels.Mlp));

        Assert.Contains("pixels float32 [N,784]", error.Message);
    }

    [Fact]
    public void Classify_BatchAndSingle_Agree()
    {
        MnistDataset data = MnistTestData.Get();
        int[] indices = data.TestIndices.Where((_, i) => i % 13 == 0).ToArray();
        ReadOnlyMemory<byte>[] images = indices.Select(i => (ReadOnlyMemory<byte>)data.Image(i).ToArray()).ToArray();

        IReadOnlyList<IReadOnlyList<LabelPrediction>> batched = Shipped.Value.Classify(images, topK: 10);

        Assert.Equal(images.Length, batched.Count);
        for (int i = 0; i < images.Length; i++)
        {
            IReadOnlyList<LabelPrediction> single = Shipped.Value.Classify(images[i].Span, topK: 10);
            Assert.Equal(single.Select(p => p.Label), batched[i].Select(p => p.Label));
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(single[k].Probability, batched[i][k].Probability, 5);
            }
        }
    }

    [Fact]
    public void Classify_TopK_SortedProbabilitiesOfDistinctDigits()
    {
        MnistDataset data = MnistTestData.Get();

        IReadOnlyList<LabelPrediction> all = Shipped.Value.Classify(data.Image(data.TestIndices[0]), topK: 10);
        IReadOnlyList<LabelPrediction> top3 = Shipped.Value.Classify(data.Image(data.TestIndices[0]));

        Assert.Equal(10, all.Select(p => p.Label).Distinct().Count());
        Assert.All(all, p => Assert.Contains(p.Label, new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }));
        Assert.Equal(all.OrderByDescending(p => p.Probability).Select(p => p.Probability), all.Select(p => p.Probability));
        Assert.Equal(1.0, all.Sum(p => p.Probability), 4);
        Assert.Equal(3, top3.Count);
        Assert.Equal(all.Take(3), top3);
        Assert.Equal(data.Labels[data.TestIndices[0]].ToString(), all[0].Label);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void Classify_PngOfHeldOutDigit_SameAsRawBytes(int colorType)
    {
        MnistDataset data = MnistTestData.Get();
        int index = data.TestIndices[123];
        byte[] raw = data.Image(index).ToArray();
        int channels = TestPng.Channels(colorType);
        var samples = new byte[raw.Length * channels];
        for (int p = 0; p < raw.Length; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                // Colour channels repeat the grey value; alpha is opaque.
                samples[p * channels + c] = colorType is 4 or 6 && c == channels - 1 ? (byte)255 : raw[p];
            }
        }
        byte[] png = TestPng.Encode(28, 28, colorType, samples, y => y % 5);

        IReadOnlyList<LabelPrediction> fromPng = Shipped.Value.Classify(png, topK: 10);
        IReadOnlyList<LabelPrediction> fromRaw = Shipped.Value.Classify(raw, topK: 10);

        Assert.Equal(fromRaw, fromPng);
        Assert.Equal(data.Labels[index].ToString(), fromPng[0].Label);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void Classify_TopKOutOfRange_ThrowsArgumentOutOfRange(int topK)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shipped.Value.Classify(new byte[784], topK));
    }

    [Fact]
    public async Task Classify_ConcurrentCallers_SameAnswersAsSequential()
    {
        MnistDataset data = MnistTestData.Get();
        int[] indices = data.TestIndices.Take(200).ToArray();
        string[] expected = indices.Select(i => Shipped.Value.Classify(data.Image(i), 1)[0].Label).ToArray();

        string[][] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            indices.Select(i => Shipped.Value.Classify(data.Image(i), 1)[0].Label).ToArray()))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(results, r => Assert.Equal(expected, r));
    }
}
