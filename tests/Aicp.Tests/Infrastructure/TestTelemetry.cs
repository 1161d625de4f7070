using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Infrastructure;

/// <summary>The dispatcher's telemetry wired as the hub wires it, for tests that build a dispatcher by hand.</summary>
internal static class TestTelemetry
{
    public static TaskTelemetry Create(AgentRegistry registry, TimeProvider time) => Create(registry, time, out _);

    /// <summary>As <see cref="Create(AgentRegistry, TimeProvider)"/>, with the hub-wide totals <c>/v1/stats</c> reads from the same counters.</summary>
    public static TaskTelemetry Create(AgentRegistry registry, TimeProvider time, out HubCounters counters) =>
        Create(registry, time, out counters, out _);

    /// <summary>As above, with the services behind it (the metrics <c>/metrics</c> would serve, the route log <c>/v1/routes</c> reads).</summary>
    public static TaskTelemetry Create(AgentRegistry registry, TimeProvider time, out HubCounters counters, out IServiceProvider services)
    {
        services = new ServiceCollection()
            .AddMetrics()
            .AddLogging()
            .AddSingleton(registry)
            .AddSingleton(time)
            .AddSingleton(Options.Create(new ObservabilityOptions()))
            .AddSingleton<MetricLabels>()
            .AddSingleton<HubMetrics>()
            .AddSingleton<RouteLog>()
            .AddSingleton<CapacityPlanner>()
            .AddSingleton<TaskTelemetry>()
            .BuildServiceProvider();
        counters = new HubCounters(services.GetRequiredService<HubMetrics>());
        return services.GetRequiredService<TaskTelemetry>();
    }
}
