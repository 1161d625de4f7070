using Aicp.Hub.Configuration;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Configuration;

public sealed class AicpHubOptionsValidatorTests
{
    private static readonly AicpHubOptionsValidator Validator = new(new RoutingStrategyCatalog(RoutingFixture.AllStrategies()));

    [Fact]
    public void Validate_Defaults_SucceedWithAdaptiveDefault()
    {
        var options = new AicpHubOptions();
        Assert.Equal(RoutingStrategyNames.Adaptive, options.DefaultStrategy);
        Assert.True(Validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_UnknownCapabilityStrategyAndBadSettings_AllErrorsTogether()
    {
        var options = new AicpHubOptions
        {
            DefaultStrategy = "fastest",
            CapabilityStrategies = { ["image.label"] = "power-of-two", ["text.embed"] = "warp", ["Bad Name"] = "random" },
            Health = { FailureRatio = 2, BreakDuration = TimeSpan.FromMinutes(10) },
        };
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        var errors = result.Failures!.ToList();
        Assert.Contains(errors, e => e.Contains("Aicp:DefaultStrategy 'fastest'"));
        Assert.Contains(errors, e => e.Contains("Aicp:CapabilityStrategies:text.embed 'warp' is not a known strategy") && e.Contains("adaptive"));
        Assert.Contains(errors, e => e.Contains("'Bad Name' is not a valid capability name"));
        Assert.Contains(errors, e => e.Contains("FailureRatio"));
        Assert.Contains(errors, e => e.Contains("MaxBreakDuration"));
        Assert.DoesNotContain(errors, e => e.Contains("image.label"));
    }

    [Fact]
    public void Validate_BadRetryBudgetAndHedging_AllErrorsTogether()
    {
        var options = new AicpHubOptions
        {
            RetryBudget = { Ratio = -0.1, Window = TimeSpan.FromMilliseconds(500) },
            Hedging = { Capabilities = ["image.label", "Not Valid"], Delay = TimeSpan.Zero, Percentile = 1, BudgetRatio = 2 },
        };
        var errors = Validator.Validate(null, options).Failures!.ToList();
        Assert.Equal(6, errors.Count);
        Assert.Contains(errors, e => e.Contains("Aicp:RetryBudget:Ratio"));
        Assert.Contains(errors, e => e.Contains("Aicp:RetryBudget:Window"));
        Assert.Contains(errors, e => e.Contains("'Not Valid' is not a valid capability name"));
        Assert.Contains(errors, e => e.Contains("Aicp:Hedging:Delay"));
        Assert.Contains(errors, e => e.Contains("Aicp:Hedging:Percentile"));
        Assert.Contains(errors, e => e.Contains("Aicp:Hedging:BudgetRatio"));
    }

    [Fact]
    public void Validate_BadClusterSettings_AllErrorsTogether()
    {
        var options = new AicpHubOptions
        {
            Cluster =
            {
                Redis = "127.0.0.1:6379", NodeId = "Node One", HeartbeatInterval = TimeSpan.FromSeconds(2), NodeTtl = TimeSpan.FromSeconds(3), KeyPrefix = "",
                HopCostMs = -0.5,
            },
        };

        var errors = Validator.Validate(null, options).Failures!.ToList();

        Assert.Equal(
        [
            "Aicp:Cluster:NodeId 'Node One' is not a valid node name (^[a-z0-9][a-z0-9._-]{0,127}$).",
            "Aicp:Cluster:NodeTtl must be at least twice Aicp:Cluster:HeartbeatInterval.",
            "Aicp:Cluster:HopCostMs must be a finite number of milliseconds, 0 or more.",
            "Aicp:Cluster:KeyPrefix '' is not a valid prefix (^[a-z0-9][a-z0-9._-]{0,127}$).",
        ], errors);
        Assert.Contains("Aicp:Cluster:HeartbeatInterval must be positive.",
            Validator.Validate(null, new AicpHubOptions { Cluster = { HeartbeatInterval = TimeSpan.Zero } }).Failures!);
        Assert.Contains("Aicp:Cluster:HopCostMs must be a finite number of milliseconds, 0 or more.",
            Validator.Validate(null, new AicpHubOptions { Cluster = { HopCostMs = double.PositiveInfinity } }).Failures!);
        Assert.True(Validator.Validate(null, new AicpHubOptions { Cluster = { Redis = "127.0.0.1:6379", NodeId = "node-1" } }).Succeeded);
        Assert.True(Validator.Validate(null, new AicpHubOptions { Cluster = { HopCostMs = 0 } }).Succeeded);
    }

    [Fact]
    public void StrategyFor_CapabilityWithEntry_ThatStrategyElseDefault()
    {
        var options = new AicpHubOptions { CapabilityStrategies = { ["image.label"] = RoutingStrategyNames.PowerOfTwo } };
        Assert.Equal(RoutingStrategyNames.PowerOfTwo, options.StrategyFor("image.label"));
        Assert.Equal(RoutingStrategyNames.Adaptive, options.StrategyFor("text.embed"));
    }
}
