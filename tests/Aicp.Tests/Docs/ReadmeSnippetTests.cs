using Aicp.SampleAgents.QuickStart;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>README.md's C# examples are compiled samples (<see cref="QuickStart"/>, <see cref="HostedQuickStart"/>), and they work against a real hub.</summary>
public sealed class ReadmeSnippetTests
{
    /// <summary>The compiled files whose <c>// README begin</c> .. <c>// README end</c> regions README.md shows, in its order.</summary>
    public static readonly string[] CompiledSamples =
    [
        "src/SampleAgents/QuickStart/QuickStart.cs",
        "src/SampleAgents/QuickStart/HostedQuickStart.cs",
    ];

    private static string[] Trimmed(IEnumerable<string> lines) => [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)];

    private static string[] Region(string file)
    {
        var source = File.ReadAllLines(Path.Combine(ExternalTool.RepositoryRoot, file));
        var begin = Array.FindIndex(source, l => l.Trim() == "// README begin");
        var end = Array.FindIndex(source, l => l.Trim() == "// README end");
        Assert.True(begin >= 0 && end > begin + 5, $"{file} has no README region");
        return Trimmed(source[(begin + 1)..end]);
    }

    [Fact]
    public void Readme_EveryCSharpBlock_IsACompiledSample()
    {
        var blocks = Markdown.Read("README.md").Blocks().Where(b => b.Info == "csharp").Select(b => Trimmed(b.Text.Split('\n'))).ToList();

        Assert.Equal(CompiledSamples.Length, blocks.Count);
        for (var i = 0; i < CompiledSamples.Length; i++)
        {
            Assert.Equal(Region(CompiledSamples[i]), blocks[i]);
        }
    }

    /// <summary>The regions between <c>// SDK.md begin</c> and <c>// SDK.md end</c> of a compiled file.</summary>
    private static List<string[]> Regions(string file)
    {
        var regions = new List<string[]>();
        var source = File.ReadAllLines(Path.Combine(ExternalTool.RepositoryRoot, file));
        for (var begin = Array.FindIndex(source, l => l.Trim() == "// SDK.md begin"); begin >= 0;
             begin = Array.FindIndex(source, begin + 1, l => l.Trim() == "// SDK.md begin"))
        {
            var end = Array.FindIndex(source, begin, l => l.Trim() == "// SDK.md end");
            regions.Add(Trimmed(source[(begin + 1)..end]));
        }

        return regions;
    }

    [Fact]
    public void Sdk_EveryCSharpBlock_IsACompiledExample()
    {
        var blocks = Markdown.Read("docs/SDK.md").Blocks().Where(b => b.Info == "csharp").Select(b => Trimmed(b.Text.Split('\n'))).ToList();
        var regions = Regions("tests/Aicp.Tests/Docs/SdkExamples.cs");

        Assert.True(blocks.Count >= 7, $"{blocks.Count} C# blocks in docs/SDK.md");
        Assert.Equal(blocks.Count, regions.Count);
        Assert.All(blocks, block => Assert.True(regions.Any(r => r.SequenceEqual(block)),
            $"docs/SDK.md block starting '{block[0]}' is not a region of tests/Aicp.Tests/Docs/SdkExamples.cs, word for word"));
    }

    [Fact]
    public async Task QuickStart_AgainstARealHub_SumsTheNumbers()
    {
        await using var h = await HubHarness.StartAsync();

        var total = await QuickStart.RunAsync(h.Hub.BaseUrl.ToString()).DefaultTimeout();

        Assert.Equal(6, total.Value);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task HostedQuickStart_AgainstARealHub_SumsTheNumbers()
    {
        await using var h = await HubHarness.StartAsync();
        var hubUrl = h.Hub.BaseUrl.ToString();

        var total = await HostedQuickStart.RunAsync(new Dictionary<string, string?>
        {
            ["Agents:adder-2:HubUrl"] = hubUrl, ["AicpClient:HubUrl"] = hubUrl,
        }).DefaultTimeout();

        Assert.Equal(15, total.Value);
        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "the hosted agent gone with its host");
    }
}
