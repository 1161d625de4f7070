using Aicp.Hub.Routing;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.RoutingConfiguration;

/// <summary>The routing file's YAML read into rules, or every problem in it at once.</summary>
public sealed class RoutingRulesReaderTests
{
    internal static readonly RoutingStrategyCatalog Strategies = new(RoutingFixture.AllStrategies());

    internal static RoutingRules Read(string yaml)
    {
        var rules = RoutingRulesReader.Read(yaml, "routing.yaml", Strategies, out var errors);
        Assert.Empty(errors);
        return rules!;
    }

    internal static IReadOnlyList<string> Problems(string yaml)
    {
        Assert.Null(RoutingRulesReader.Read(yaml, "routing.yaml", Strategies, out var errors));
        return errors;
    }

    [Fact]
    public void Read_CapabilityDefaults_Bound()
    {
        var rules = Read("""
            capabilities:
              text.chat: { strategy: least-loaded, timeoutMs: 60000, maxAttempts: 2 }
              image.label:
                strategy: Round-Robin
              audio.transcribe: {}
            """);

        Assert.Equal(new CapabilityRule("least-loaded", 60_000, 2), rules.Capabilities["text.chat"]);
        Assert.Equal(new CapabilityRule("round-robin", null, null), rules.Capabilities["image.label"]); // the hub's spelling
        Assert.Equal(new CapabilityRule(null, null, null), rules.Capabilities["audio.transcribe"]);
        Assert.Equal(3, rules.Capabilities.Count);
        Assert.Equal("routing.yaml", rules.Source);
    }

    [Fact]
    public void Read_EmptyFile_NoRules()
    {
        var rules = Read("# nothing configured yet\n");

        Assert.Empty(rules.Capabilities);
    }

    [Fact]
    public void Read_SeveralProblems_EveryOneListedWithItsPlace()
    {
        var errors = Problems("""
            capabilities:
              Text.Chat: { strategy: fastest }
              image.label: { timeoutMs: 0, maxAttempts: 11 }
              text.embed: { timeoutMs: 600001 }
            """);

        Assert.Contains(errors, e => e.Contains("capabilities.Text.Chat: 'Text.Chat' is not a valid capability name"));
        Assert.Contains(errors, e => e.Contains("capabilities.Text.Chat.strategy 'fastest' is not a known strategy") && e.Contains("adaptive"));
        Assert.Contains(errors, e => e.Contains("capabilities.image.label.timeoutMs must be within 1..600000; got 0"));
        Assert.Contains(errors, e => e.Contains("capabilities.image.label.maxAttempts must be within 1..10; got 11"));
        Assert.Contains(errors, e => e.Contains("capabilities.text.embed.timeoutMs must be within 1..600000; got 600001"));
        Assert.Equal(5, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("routing.yaml: ", e));
    }

    [Theory]
    [InlineData("capabilities:\n  text.chat: { strategy: least-loaded, timeout: 5 }\n", "line 2")] // a key the format does not have
    [InlineData("capabilities:\n  text.chat:\n    maxAttempts: lots\n", "line 3")] // a value of the wrong type
    [InlineData("capabilities: [unclosed\n", "line 1")] // not YAML
    [InlineData("routes:\n  a: b\n", "line 1")] // a section the format does not have
    [InlineData("capabilities:\n  text.chat: { maxAttempts: 2 }\n  text.chat: { maxAttempts: 3 }\n", "line 2")] // a capability twice (where its mapping starts)
    public void Read_DoesNotParse_OneProblemWithItsLine(string yaml, string where)
    {
        var problem = Assert.Single(Problems(yaml));

        Assert.StartsWith($"routing.yaml: {where}, column ", problem);
    }

    [Fact]
    public void Read_CapabilityTwice_NamedInTheProblem()
    {
        var problem = Assert.Single(Problems("capabilities:\n  text.chat: { maxAttempts: 2 }\n  text.chat: { maxAttempts: 3 }\n"));

        Assert.Contains("duplicate key text.chat", problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ReadFile_TheShippedRoutingFile_IsValid()
    {
        var rules = RoutingRulesReader.ReadFile(Path.Combine(ExternalTool.RepositoryRoot, "deploy/routing.yaml"), Strategies, out var errors);

        Assert.Empty(errors);
        Assert.Equal(new CapabilityRule("least-loaded", 60_000, 2), rules!.Capabilities["text.chat"]);
    }

    [Fact]
    public void ReadFile_Missing_OneProblem()
    {
        Assert.Null(RoutingRulesReader.ReadFile("/nonexistent/routing.yaml", Strategies, out var errors));

        Assert.Contains("/nonexistent/routing.yaml: cannot be read", Assert.Single(errors));
    }
}
