using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Hub.RoutingConfiguration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Infrastructure;

/// <summary>A dispatcher with its registry, every strategy and a seeded random source, on the test's clock and channel (and routing rules, if given).</summary>
internal static class TestDispatcher
{
    public static (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(TimeProvider time, IAgentChannel channel, AicpHubOptions? options = null,
        RoutingRules? rules = null) => Create(time, channel, out _, options, rules);

    /// <summary>As above, with the hub-wide totals <c>/v1/stats</c> reads and <paramref name="strategies"/> next to the built-in ones.</summary>
    public static (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(TimeProvider time, IAgentChannel channel, out HubCounters counters,
        AicpHubOptions? options = null, RoutingRules? rules = null, params IRoutingStrategy[] strategies) =>
        Create(time, channel, out counters, out _, NullLoggerFactory.Instance, options, rules, strategies);

    /// <summary>As above, logging to <paramref name="logs"/>, with the telemetry's services (metrics, route log).</summary>
    public static (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(TimeProvider time, IAgentChannel channel, out HubCounters counters,
        out IServiceProvider telemetry, ILoggerFactory logs, AicpHubOptions? options = null, RoutingRules? rules = null, params IRoutingStrategy[] strategies)
    {
        var wrapped = Options.Create(options ?? new AicpHubOptions());
        var registry = new AgentRegistry(wrapped, time);
        var catalog = new RoutingStrategyCatalog([.. RoutingFixture.AllStrategies(), .. strategies]);
        var dispatcher = new TaskDispatcher(registry, catalog, channel, time, new DefaultRandomSource(1), wrapped,
            logs.CreateLogger<TaskDispatcher>(), TestTelemetry.Create(registry, time, out counters, out telemetry), rules is null ? null : new RoutingRulesStore(rules));
        return (dispatcher, registry);
    }
}
