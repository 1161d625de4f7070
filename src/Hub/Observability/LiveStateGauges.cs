using System.Diagnostics;
using System.Globalization;
using Aicp.Hub.Registry;
using Prometheus;
using static Aicp.Hub.Observability.MetricFamilies;

namespace Aicp.Hub.Observability;

/// <summary>One gauge read from live state: its family, its prometheus-net collector and how to read a value.</summary>
internal sealed record LiveGauge<TSource>(MetricFamily Family, Gauge Gauge, Func<TSource, double> Read);

/// <summary>
/// The gauges that mirror live state (the registry, the capability pools, each agent, the process). Nothing sets
/// them as events happen: <see cref="Refresh"/> reads the state just before a collection, and the OTLP meter reads
/// it through the same <see cref="LiveGauge{TSource}.Read"/> functions. Process and GC series keep the names the
/// hub has always exported (prometheus-net's own process collector names memory and GC series differently).
/// The caller runs one <see cref="Refresh"/> at a time; <see cref="RemoveAgents"/> may run alongside it.
/// </summary>
internal sealed class LiveStateGauges
{
    private readonly Counter.Child[] _gcCollections;

    public LiveStateGauges(MetricFactory factory)
    {
        AgentsConnected = CreateGauge(factory, MetricFamilies.AgentsConnected);
        PerCapability =
        [
            new(CapabilityAgents, CreateGauge(factory, CapabilityAgents), pool => pool?.Agents.Length ?? 0),
            new(CapabilityHealthyAgents, CreateGauge(factory, CapabilityHealthyAgents), pool => pool?.Agents.Count(AgentSignals.IsHealthy) ?? 0),
            new(QueueDepth, CreateGauge(factory, QueueDepth), pool => pool?.Waiters.Count ?? 0),
        ];
        PerAgent =
        [
            new(AgentPending, CreateGauge(factory, AgentPending), agent => agent.Pending),
            new(AgentMaxConcurrency, CreateGauge(factory, AgentMaxConcurrency), agent => agent.MaxConcurrency),
            new(AgentTrust, CreateGauge(factory, AgentTrust), agent => agent.Trust.Value),
            new(AgentCircuitState, CreateGauge(factory, AgentCircuitState), agent => (int)AgentSignals.CircuitState(agent)),
        ];
        AgentLatencySeconds = CreateGauge(factory, AgentLatency);

        ProcessCpuSeconds = factory.CreateCounter(ProcessCpu.Name, ProcessCpu.Help, ProcessCpu.Labels);
        ProcessResidentMemoryBytes = CreateGauge(factory, ProcessResidentMemory);
        CreateGauge(factory, ProcessStartTime).Set(ProcessStartSeconds);
        var gcCollections = factory.CreateCounter(GcCollections.Name, GcCollections.Help, GcCollections.Labels);
        _gcCollections = [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(g => gcCollections.WithLabels(Generation(g)))];
        GcHeapSizeBytes = CreateGauge(factory, GcHeapSize);
    }

    /// <summary>The process' start, in seconds since the Unix epoch.</summary>
    public static double ProcessStartSeconds { get; } = (Process.GetCurrentProcess().StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;

    public Gauge AgentsConnected { get; }

    /// <summary>Gauges labelled by known capability (<c>method</c>); read from its pool, null once it has no agent.</summary>
    public IReadOnlyList<LiveGauge<CapabilityPool?>> PerCapability { get; }

    /// <summary>Gauges labelled by live agent (<c>agent</c>).</summary>
    public IReadOnlyList<LiveGauge<AgentState>> PerAgent { get; }

    /// <summary>Labelled by agent and method, for each method with a latency sample.</summary>
    public Gauge AgentLatencySeconds { get; }

    public Counter ProcessCpuSeconds { get; }

    public Gauge ProcessResidentMemoryBytes { get; }

    public Gauge GcHeapSizeBytes { get; }

    public static string Generation(int generation) => generation.ToString(CultureInfo.InvariantCulture);

    /// <summary>The agent's latency samples, in seconds, for the methods that have one.</summary>
    public static IEnumerable<(string Method, double Seconds)> LatencySeconds(AgentState agent)
    {
        foreach (var (method, estimate) in agent.Latencies)
        {
            if (estimate.HasValue)
            {
                yield return (method, estimate.Milliseconds / 1000.0);
            }
        }
    }

    /// <summary>Sets every gauge from the state now and drops the series of agents that are no longer live.</summary>
    public void Refresh(AgentRegistry registry, IEnumerable<string> knownCapabilities)
    {
        AgentsConnected.Set(registry.Count);
        foreach (var method in knownCapabilities)
        {
            var pool = registry.GetPool(method);
            foreach (var gauge in PerCapability)
            {
                gauge.Gauge.WithLabels(method).Set(gauge.Read(pool));
            }
        }

        var latencies = new HashSet<(string Agent, string Method)>();
        foreach (var agent in registry.Agents)
        {
            foreach (var gauge in PerAgent)
            {
                gauge.Gauge.WithLabels(agent.AgentId).Set(gauge.Read(agent));
            }

            foreach (var (method, seconds) in LatencySeconds(agent))
            {
                AgentLatencySeconds.WithLabels(agent.AgentId, method).Set(seconds);
                latencies.Add((agent.AgentId, method));
            }
        }

        // Set above from a snapshot of the registry: an agent that left meanwhile goes here, within the same scrape.
        RemoveAgents(id => registry.GetById(id) is null);
        RemoveWhere(AgentLatencySeconds, labels => !latencies.Contains((labels[0], labels[1])));

        ProcessCpuSeconds.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
        ProcessResidentMemoryBytes.Set(Environment.WorkingSet);
        for (var generation = 0; generation < _gcCollections.Length; generation++)
        {
            _gcCollections[generation].IncTo(GC.CollectionCount(generation));
        }

        GcHeapSizeBytes.Set(GC.GetTotalMemory(false));
    }

    /// <summary>Drops the series of the agents <paramref name="matches"/> selects.</summary>
    public void RemoveAgents(Func<string, bool> matches)
    {
        foreach (var gauge in PerAgent)
        {
            RemoveWhere(gauge.Gauge, labels => matches(labels[0]));
        }

        RemoveWhere(AgentLatencySeconds, labels => matches(labels[0]));
    }

    /// <summary>Removes the children of <paramref name="family"/> whose label values <paramref name="predicate"/> selects.</summary>
    public static void RemoveWhere<TChild>(Collector<TChild> family, Func<string[], bool> predicate) where TChild : ChildBase
    {
        foreach (var labels in family.GetAllLabelValues())
        {
            if (predicate(labels))
            {
                family.RemoveLabelled(labels);
            }
        }
    }

    private static Gauge CreateGauge(MetricFactory factory, MetricFamily family) => factory.CreateGauge(family.Name, family.Help, family.Labels);
}
