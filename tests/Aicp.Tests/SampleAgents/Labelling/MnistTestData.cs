using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.Tests.SampleAgents.Labelling;

/// <summary>
/// The MNIST digits, loaded once per test run through <see cref="MnistLocator"/>. When they are missing the
/// tests that need them fail (never skip) with a message saying how to fetch them.
/// </summary>
internal static class MnistTestData
{
    private static readonly Lazy<MnistDataset> Dataset = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string PackageDirectory => MnistLocator.TryFind() ?? throw new InvalidOperationException(
        $"MNIST test data is missing: {MnistLocator.FetchHint}, or set {MnistLocator.EnvironmentVariable} to the mnist package folder.");

    public static MnistDataset Get() => Dataset.Value;

    private static MnistDataset Load() => MnistDataset.Load(PackageDirectory);
}
