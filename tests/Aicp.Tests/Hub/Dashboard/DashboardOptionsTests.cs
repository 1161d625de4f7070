using Aicp.Hub.Observability;

namespace Aicp.Tests.Hub.Dashboard;

public sealed class DashboardOptionsTests
{
    [Fact]
    public void Validate_OutOfRange_BothErrorsTogether()
    {
        var options = new ObservabilityOptions { Dashboard = { PushIntervalMs = 50, MaxSubscribers = 0 } };

        var result = new ObservabilityOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
            ["Aicp:Dashboard:PushIntervalMs must be within 100..60000.", "Aicp:Dashboard:MaxSubscribers must be within 1..1000."],
            result.Failures);
    }

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var options = new ObservabilityOptions();

        Assert.True(new ObservabilityOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(1_000, options.Dashboard.PushIntervalMs);
        Assert.Equal(16, options.Dashboard.MaxSubscribers);
    }
}
