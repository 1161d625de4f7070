using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Observability;

/// <summary>The capacity plan: Little's law over a sliding window driven by a manual clock.</summary>
public sealed class CapacityPlannerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly AgentRegistry _registry;
    private readonly CapacityPlanner _planner;

    public CapacityPlannerTests()
    {
        _registry = new AgentRegistry(Options.Create(new AicpHubOptions()), _time);
        var options = Options.Create(new ObservabilityOptions());
        _planner = new CapacityPlanner(_time, _registry, new MetricLabels(_registry, options), options);
        _registry.Register("c1", "a1", ["image.label"], 4, new Dictionary<string, string>());
        _registry.Register("c2", "a2", ["image.label"], 4, new Dictionary<string, string>());
    }

    /// <summary>Runs <paramref name="seconds"/> of traffic: <paramref name="perSecond"/> tasks a second, each busy for <paramref name="serviceSeconds"/>.</summary>
    private void Run(int seconds, int perSecond, double serviceSeconds)
    {
        for (var s = 0; s < seconds; s++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            for (var i = 0; i < perSecond; i++)
            {
                _planner.TaskArrived("image.label");
                _planner.AttemptEnded("image.label", serviceSeconds);
            }
        }
    }

    [Fact]
    public void Plan_LoadWithinTarget_LittlesLawAndNoChange()
    {
        Run(60, perSecond: 10, serviceSeconds: 0.5); // L = 10/s * 0.5 s = 5 busy slots of 8

        var plan = Assert.Single(_planner.Plan());

        Assert.Equal(("image.label", 60.0, 10.0, 0.5, 5.0), (plan.Method, plan.WindowSeconds, plan.ArrivalRatePerSecond, plan.MeanServiceSeconds, plan.OfferedLoad));
        Assert.Equal((2, 8, 0.625), (plan.Agents, plan.CapacitySlots, plan.Utilization!.Value));
        Assert.Equal((2, 0, CapacityPlanner.AdviceOk), (plan.AgentsNeeded, plan.AgentDelta, plan.Advice)); // ceil(5 / (0.7 * 4)) = 2
    }

    [Fact]
    public void Plan_LoadAboveTarget_AsksForMoreAgents()
    {
        Run(60, perSecond: 20, serviceSeconds: 0.5); // L = 10 busy slots of 8

        var plan = Assert.Single(_planner.Plan());

        Assert.Equal(1.25, plan.Utilization);
        Assert.Equal((4, 2, CapacityPlanner.AdviceScaleUp), (plan.AgentsNeeded, plan.AgentDelta, plan.Advice)); // ceil(10 / 2.8) = 4
    }

    [Fact]
    public void Plan_WindowSlidesPastTheTraffic_Idle()
    {
        Run(30, perSecond: 20, serviceSeconds: 0.5);
        _time.Advance(TimeSpan.FromSeconds(61));

        var plan = Assert.Single(_planner.Plan());

        Assert.Equal((0.0, 0.0, 0, CapacityPlanner.AdviceIdle), (plan.ArrivalRatePerSecond, plan.OfferedLoad, plan.AgentsNeeded, plan.Advice));
        Assert.Equal(-2, plan.AgentDelta);
    }

    [Fact]
    public void Plan_UnknownMethod_NotTracked()
    {
        _planner.TaskArrived(MetricLabels.Unknown);

        Assert.DoesNotContain(_planner.Plan(), p => p.Method == MetricLabels.Unknown);
    }
}
