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

    [Fact]
    public void Read_FallbackChains_ExpandedDepthFirstWithoutRepeats()
    {
        var rules = Read("""
            capabilities:
              text.chat: { fallbacks: [text.chat.small, text.echo] }
              text.chat.small: { fallbacks: [text.tiny, text.echo] }
              text.tiny: { fallbacks: [text.echo] }
              image.label: {}
            """);

        Assert.Equal(["text.chat.small", "text.tiny", "text.echo"], rules.FallbacksFor("text.chat"));
        Assert.Equal(["text.tiny", "text.echo"], rules.FallbacksFor("text.chat.small"));
        Assert.Equal(["text.echo"], rules.FallbacksFor("text.tiny"));
        Assert.Empty(rules.FallbacksFor("image.label"));
        Assert.Empty(rules.FallbacksFor("text.echo"));
    }

    [Fact]
    public void Read_FallbackProblems_LoopsLengthsNamesListed()
    {
        var errors = Problems("""
            capabilities:
              a: { fallbacks: [b] }
              b: { fallbacks: [c] }
              c: { fallbacks: [a] }
              d: { fallbacks: [d] }
              e: { fallbacks: [f, f] }
              g: { fallbacks: [Not.Valid] }
              h: { fallbacks: [h1, h2, h3, h4, h5] }
              h5: { fallbacks: [h6, h7, h8, h9] }
            """);

        Assert.Contains(errors, e => e.Contains("capabilities.a.fallbacks: a -> b -> c -> a is a loop."));
        Assert.Contains(errors, e => e.Contains("capabilities.b.fallbacks: b -> c -> a -> b is a loop."));
        Assert.Contains(errors, e => e.Contains("capabilities.c.fallbacks: c -> a -> b -> c is a loop."));
        Assert.Contains(errors, e => e.Contains("capabilities.d.fallbacks: 'd' falls back to itself."));
        Assert.Contains(errors, e => e.Contains("capabilities.e.fallbacks: 'f' is listed twice."));
        Assert.Contains(errors, e => e.Contains("capabilities.g.fallbacks: 'Not.Valid' is not a valid capability name"));
        Assert.Contains(errors, e => e.Contains("capabilities.h.fallbacks: the whole chain (h1 -> h2 -> h3 -> h4 -> h5 -> h6 -> h7 -> h8 -> h9) has 9 capabilities; at most 8."));
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Read_FallbackChainOfEight_Accepted()
    {
        var rules = Read("""
            capabilities:
              h: { fallbacks: [h1, h2, h3, h4, h5] }
              h5: { fallbacks: [h6, h7, h8] }
            """);

        Assert.Equal(["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"], rules.FallbacksFor("h"));
    }

    [Fact]
    public void Read_ModelMap_Bound()
    {
        var rules = Read("""
            models:
              gpt-4o-mini: { capability: text.chat, strategy: Least-Loaded, fallbacks: [text.echo] }
              meta-llama/Llama-3.1-8B:instruct:
                capability: text.chat.small
            """);

        var mini = rules.Models["gpt-4o-mini"];
        Assert.Equal(("text.chat", "least-loaded"), (mini.Capability, mini.Strategy));
        Assert.Equal(["text.echo"], mini.Fallbacks!);
        Assert.Equal(new ModelRoute("text.chat.small", null, null), rules.Models["meta-llama/Llama-3.1-8B:instruct"]);
    }

    [Fact]
    public void Read_ModelProblems_EveryOneListed()
    {
        var errors = Problems("""
            models:
              "has space": { capability: text.chat }
              no-capability: { strategy: random }
              bad-capability: { capability: Text.Chat }
              bad-strategy: { capability: text.chat, strategy: fastest }
              bad-fallbacks: { capability: text.chat, fallbacks: [text.chat] }
            """);

        Assert.Contains(errors, e => e.Contains("models.has space: 'has space' is not a valid model name"));
        Assert.Contains(errors, e => e.Contains("models.no-capability.capability: a capability name (^[a-z0-9][a-z0-9._-]{0,127}$) is required; got ''."));
        Assert.Contains(errors, e => e.Contains("models.bad-capability.capability: a capability name") && e.Contains("got 'Text.Chat'"));
        Assert.Contains(errors, e => e.Contains("models.bad-strategy.strategy 'fastest' is not a known strategy"));
        Assert.Contains(errors, e => e.Contains("models.bad-fallbacks.fallbacks: 'text.chat' falls back to itself."));
        Assert.Equal(5, errors.Count);
    }

    [Theory]
    [InlineData("x", true)]
    [InlineData("gpt-4o-mini", true)]
    [InlineData("org/model:tag", true)]
    [InlineData("", false)]
    [InlineData("two words", false)]
    [InlineData("tab\there", false)]
    public void IsValidModelName_PrintableWithoutSpaces(string name, bool valid)
    {
        Assert.Equal(valid, RoutingRulesReader.IsValidModelName(name));
        Assert.True(RoutingRulesReader.IsValidModelName(new string('m', RoutingRulesReader.MaxModelNameLength)));
        Assert.False(RoutingRulesReader.IsValidModelName(new string('m', RoutingRulesReader.MaxModelNameLength + 1)));
    }
}
