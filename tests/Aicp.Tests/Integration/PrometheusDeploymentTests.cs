using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>deploy/prometheus: the config and alert rules load in promtool, and the alert unit tests pass.</summary>
public sealed class PrometheusDeploymentTests
{
    private static string Deploy(string file) => Path.Combine(ExternalTool.RepositoryRoot, "deploy", "prometheus", file);

    [Theory]
    [InlineData("check", "config", "prometheus.yml")]
    [InlineData("check", "rules", "alerts.yml")]
    [InlineData("test", "rules", "alerts.test.yml")]
    public async Task Promtool_DeploymentFile_Accepted(string verb, string what, string file)
    {
        var (exit, output) = await ExternalTool.RunAsync(ExternalTool.Promtool, [verb, what, Deploy(file)]);

        Assert.True(exit == 0, $"promtool {verb} {what} {file} failed ({exit}):\n{output}");
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task AlertRules_Loaded_EveryRequiredAlertIsDefined()
    {
        var rules = await File.ReadAllTextAsync(Deploy("alerts.yml"));

        foreach (var alert in new[] { "AicpTaskLatencyP95High", "AicpTaskErrorRateHigh", "AicpCapabilityWithoutAgents", "AicpAgentCircuitOpen", "AicpQueueGrowing" })
        {
            Assert.Contains($"alert: {alert}", rules);
        }
    }
}
