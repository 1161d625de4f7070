using Aicp.SampleAgents.QuickStart;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>README.md's SDK example is the compiled <see cref="QuickStart"/>, and it works against a real hub.</summary>
public sealed class ReadmeSnippetTests
{
    private static string RepositoryFile(string relative) => Path.Combine(ExternalTool.RepositoryRoot, relative);

    private static string[] Trimmed(IEnumerable<string> lines) => [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)];

    [Fact]
    public void Readme_UsingTheSdk_IsTheCompiledQuickStart()
    {
        var source = File.ReadAllLines(RepositoryFile("src/SampleAgents/QuickStart/QuickStart.cs"));
        var begin = Array.FindIndex(source, l => l.Trim() == "// README begin");
        var end = Array.FindIndex(source, l => l.Trim() == "// README end");
        var compiled = Trimmed(source[(begin + 1)..end]);

        var readme = File.ReadAllText(RepositoryFile("README.md"));
        var section = readme[readme.IndexOf("## Using the SDK", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];

        Assert.True(compiled.Length > 5);
        Assert.Equal(compiled, Trimmed(block.Split('\n')));
    }

    [Fact]
    public async Task QuickStart_AgainstARealHub_SumsTheNumbers()
    {
        await using var h = await HubHarness.StartAsync();

        var total = await QuickStart.RunAsync(h.Hub.BaseUrl.ToString()).DefaultTimeout();

        Assert.Equal(6, total.Value);
        await h.AssertNothingPendingAsync();
    }
}
