using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>
/// Builds the status API's answers from live state. Shared by the HTTP endpoints and the hub methods, so both
/// transports return the same records.
/// </summary>
internal sealed class StatusQueries(AgentRegistry registry, MetricLabels labels, RouteLog routes, CapacityPlanner capacity,
    IOptions<AicpHubOptions> hubOptions, RoutingConfiguration.RoutingRulesStore rules, HubCounters counters, TaskDispatcher dispatcher,
    Cluster.RemoteAgents remote)
{
    public const int DefaultRouteLimit = 100;

    public IReadOnlyList<AgentStatus> Agents() => [.. registry.Agents
        .OrderBy(a => a.AgentId, StringComparer.Ordinal)
        .Select(Describe)];

    /// <summary>One agent's status record, as <see cref="Agents"/> reports it.</summary>
    public static AgentStatus Describe(AgentState a) => new()
    {
        Id = a.AgentId,
        Capabilities = a.Capabilities,
        Pending = a.Pending,
        MaxConcurrency = a.MaxConcurrency,
        Draining = a.IsDraining,
        Healthy = AgentSignals.IsHealthy(a),
        Trust = Math.Round(a.Trust.Value, 4),
        LatencyMs = a.Capabilities
            .Select(m => (Method: m, Ms: AgentSignals.LatencyMs(a, m)))
            .Where(l => l.Ms.HasValue)
            .ToDictionary(l => l.Method, l => Math.Round(l.Ms!.Value, 3), StringComparer.Ordinal),
        SuccessRate = Math.Round(AgentSignals.SuccessRate(a), 4),
        CircuitState = CircuitStateName(AgentSignals.CircuitState(a)),
        Completed = a.Completed,
        Failed = a.Failed,
        TimedOut = a.TimedOut,
        ConnectedAt = a.ConnectedAt,
        LastCompletion = a.LastCompletion,
        Metadata = a.Metadata,
        ReportedLoad = a.ReportedLoad is { } load
            ? new ReportedLoadStatus { QueueDepth = load.Report.QueueDepth, FreeSlots = load.Report.FreeSlots, Gpus = load.Report.Gpus, ReceivedAt = load.ReceivedAt }
            : null,
    };

    public IReadOnlyList<CapabilityStatus> Capabilities()
    {
        var expected = labels.Expected.ToHashSet(StringComparer.Ordinal);
        return [.. labels.KnownCapabilities.Select(method =>
        {
            var pool = registry.GetPool(method);
            var agents = pool?.Agents ?? [];
            return new CapabilityStatus
            {
                Method = method,
                Agents = agents.Length,
                HealthyAgents = agents.Count(AgentSignals.IsHealthy),
                QueueDepth = pool?.Waiters.Count ?? 0,
                Pending = agents.Sum(a => a.Pending),
                CapacitySlots = agents.Where(AgentSignals.IsHealthy).Sum(a => a.MaxConcurrency),
                DefaultStrategy = DefaultStrategyFor(method),
                Expected = expected.Contains(method),
            };
        })];
    }

    /// <summary>The newest routing decisions, newest first; <paramref name="limit"/> is clamped to 1..capacity.</summary>
    public IReadOnlyList<RouteRecord> Routes(int? limit) => routes.Latest(Math.Clamp(limit ?? DefaultRouteLimit, 1, routes.Capacity));

    public IReadOnlyList<CapacityPlan> Capacity() => capacity.Plan();

    /// <summary>The hub's totals since start, as <c>GET /v1/stats</c> and the MCP tool <c>gateway_stats</c> report them.</summary>
    public HubStats Stats() => new()
    {
        Tasks = counters.Snapshot(),
        InFlight = dispatcher.InFlightCount,
        RemoteInFlight = remote.InFlight,
        Agents = registry.Count,
        SecurityEvents = counters.SecurityEvents(),
        FrontDoors = counters.FrontDoors(),
    };

    /// <summary>Capabilities that are known (expected or seen) but have no agent able to take work.</summary>
    public IReadOnlyList<string> CapabilitiesWithoutHealthyAgents() =>
        [.. labels.KnownCapabilities.Where(m => !(registry.GetPool(m)?.Agents.Any(AgentSignals.IsHealthy) ?? false))];

    /// <summary>
    /// The strategy a task for <paramref name="method"/> gets when it names none: the routing file's, else
    /// <c>Aicp:CapabilityStrategies</c>, else <c>Aicp:DefaultStrategy</c> (the dispatcher's own rule).
    /// </summary>
    public string DefaultStrategyFor(string method) => rules.Current.StrategyFor(method, hubOptions.Value);

    private static string CircuitStateName(CircuitStateValue state) => state switch
    {
        CircuitStateValue.Open => "open",
        CircuitStateValue.HalfOpen => "half-open",
        _ => "closed",
    };
}
