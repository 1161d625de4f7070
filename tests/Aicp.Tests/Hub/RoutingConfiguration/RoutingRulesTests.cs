using Aicp.Hub.Configuration;
using Aicp.Hub.RoutingConfiguration;

namespace Aicp.Tests.Hub.RoutingConfiguration;

/// <summary>Which default a task that sets none gets: the routing file's, else the hub's settings.</summary>
public sealed class RoutingRulesTests
{
    private static readonly AicpHubOptions Hub = new()
    {
        DefaultStrategy = "adaptive", DefaultTimeoutMs = 30_000, DefaultMaxAttempts = 3,
        CapabilityStrategies = new() { ["image.label"] = "power-of-two", ["text.chat"] = "random" },
    };

    private static readonly RoutingRules Rules = RoutingRulesReaderTests.Read("""
        capabilities:
          image.label: { strategy: least-loaded, timeoutMs: 5000 }
          audio.transcribe: { maxAttempts: 1 }
        """);

    [Theory]
    [InlineData("image.label", "least-loaded")] // the file's, over Aicp:CapabilityStrategies
    [InlineData("text.chat", "random")] // not in the file: Aicp:CapabilityStrategies
    [InlineData("audio.transcribe", "adaptive")] // in the file without a strategy: Aicp:DefaultStrategy
    [InlineData("video.cut", "adaptive")]
    public void StrategyFor_FileThenCapabilityStrategiesThenDefault(string method, string expected) =>
        Assert.Equal(expected, Rules.StrategyFor(method, Hub));

    [Theory]
    [InlineData("image.label", 5000, 3)]
    [InlineData("audio.transcribe", 30_000, 1)]
    [InlineData("text.chat", 30_000, 3)]
    public void TimeoutAndAttempts_FileElseTheHubsDefaults(string method, int timeoutMs, int maxAttempts) =>
        Assert.Equal((timeoutMs, maxAttempts), (Rules.TimeoutMsFor(method, Hub), Rules.MaxAttemptsFor(method, Hub)));

    [Fact]
    public void Empty_EverythingFromTheHubsSettings()
    {
        var none = RoutingRules.Empty;

        Assert.Equal(("power-of-two", 30_000, 3), (none.StrategyFor("image.label", Hub), none.TimeoutMsFor("image.label", Hub), none.MaxAttemptsFor("image.label", Hub)));
    }
}
