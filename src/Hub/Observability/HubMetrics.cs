using System.Diagnostics;
using System.Diagnostics.Metrics;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

/// <summary>
/// The hub's one <see cref="Meter"/> (<c>Aicp.Hub</c>) and every instrument on it: names, units, descriptions and
/// tag names are declared here and nowhere else. Instrument names are the Prometheus family names without the
/// <c>_total</c> suffix the exporter adds to counters, so OTLP and Prometheus users see the same names.
/// Label values come from bounded sets (<see cref="MetricLabels"/>, task statuses, attempt outcomes, live agents).
/// </summary>
internal sealed class HubMetrics
{
    public const string MeterName = "Aicp.Hub";

    private static readonly double[] TaskDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
    private static readonly double[] RoutingBuckets = [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05];

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _failovers;
    private readonly Histogram<double> _taskDuration;
    private readonly Histogram<double> _routingDecision;

    public HubMetrics(IMeterFactory meterFactory, AgentRegistry registry, MetricLabels labels, HubCounters counters)
    {
        Meter = meterFactory.Create(MeterName);
        Labels = labels;

        _submitted = Meter.CreateCounter<long>(Names.TasksSubmitted, "{task}", "Tasks submitted, by method.");
        _completed = Meter.CreateCounter<long>(Names.TasksCompleted, "{task}", "Tasks finished, by method and final status.");
        _attempts = Meter.CreateCounter<long>(Names.TaskAttempts, "{attempt}", "Dispatch attempts, by method, agent and outcome.");
        _failovers = Meter.CreateCounter<long>(Names.Failovers, "{attempt}", "Attempts after the first (a task moved to another agent), by method.");
        _taskDuration = Meter.CreateHistogram(Names.TaskDuration, "s", "Time from submit to final result, by method and status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TaskDurationBuckets });
        _routingDecision = Meter.CreateHistogram(Names.RoutingDecision, "s", "Time the routing strategy took to pick an agent and take its slot.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RoutingBuckets });

        Meter.CreateObservableCounter(Names.LateCompletions, () => counters.LateCompletions, "{completion}",
            "Completions for attempts the hub had already ended (timeout, failover, cancel).");
        Meter.CreateObservableCounter(Names.ForeignCompletions, () => counters.ForeignCompletions, "{completion}",
            "Completions from a connection the attempt was not assigned to.");

        Meter.CreateObservableGauge(Names.AgentsConnected, () => registry.Count, "{agent}", "Registered agents connected now.");
        Meter.CreateObservableGauge(Names.CapabilityAgents, () => PerCapability(registry, labels, pool => pool?.Agents.Length ?? 0), "{agent}",
            "Agents serving each known capability (0 when a known capability lost all its agents).");
        Meter.CreateObservableGauge(Names.CapabilityHealthyAgents, () => PerCapability(registry, labels, pool => pool?.Agents.Count(AgentSignals.IsHealthy) ?? 0), "{agent}",
            "Agents serving each known capability that may take new work (not draining, breaker not open).");
        Meter.CreateObservableGauge(Names.QueueDepth, () => PerCapability(registry, labels, pool => pool?.Waiters.Count ?? 0), "{task}",
            "Tasks waiting for a free agent slot, by capability.");
        Meter.CreateObservableGauge(Names.AgentPending, () => PerAgent(registry, a => a.Pending), "{task}", "Tasks in flight on each agent.");
        Meter.CreateObservableGauge(Names.AgentMaxConcurrency, () => PerAgent(registry, a => a.MaxConcurrency), "{task}", "Each agent's maxConcurrency.");
        Meter.CreateObservableGauge(Names.AgentTrust, () => PerAgent(registry, a => a.Trust.Value), "1", "Each agent's trust score in [0, 1].");
        Meter.CreateObservableGauge(Names.AgentCircuitState, () => PerAgent(registry, a => (int)AgentSignals.CircuitState(a)), "1",
            "Each agent's circuit breaker: 0 closed, 1 half-open, 2 open.");
        Meter.CreateObservableGauge(Names.AgentLatency, () => AgentLatencies(registry), "s",
            "Each agent's moving-average latency per capability, once it has a sample.");

        Meter.CreateObservableCounter(Names.ProcessCpu, () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "Total user and system CPU time spent in seconds.");
        Meter.CreateObservableGauge(Names.ProcessResidentMemory, () => Environment.WorkingSet, "By", "Resident memory size in bytes.");
        var startTime = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var startSeconds = (startTime - DateTime.UnixEpoch).TotalSeconds;
        Meter.CreateObservableGauge(Names.ProcessStartTime, () => startSeconds, "s", "Start time of the process since unix epoch in seconds.");
        Meter.CreateObservableCounter(Names.GcCollections, GcCollections, "{collection}", "Garbage collections since the process started, by generation.");
        Meter.CreateObservableGauge(Names.GcHeapSize, () => GC.GetTotalMemory(false), "By", "Bytes currently thought to be allocated on the managed heap.");
    }

    public Meter Meter { get; }

    public MetricLabels Labels { get; }

    public void TaskSubmitted(string methodLabel) => _submitted.Add(1, new KeyValuePair<string, object?>(Tags.Method, methodLabel));

    public void TaskFinished(string methodLabel, string status, double seconds)
    {
        var tags = new TagList { { Tags.Method, methodLabel }, { Tags.Status, status } };
        _completed.Add(1, tags);
        _taskDuration.Record(seconds, tags);
    }

    public void AttemptEnded(string methodLabel, string agentId, string outcome) =>
        _attempts.Add(1, new TagList { { Tags.Method, methodLabel }, { Tags.Agent, agentId }, { Tags.Outcome, outcome } });

    public void Failover(string methodLabel) => _failovers.Add(1, new KeyValuePair<string, object?>(Tags.Method, methodLabel));

    public void RoutingDecided(double seconds) => _routingDecision.Record(seconds);

    private static IEnumerable<Measurement<int>> PerCapability(AgentRegistry registry, MetricLabels labels, Func<CapabilityPool?, int> value)
    {
        foreach (var method in labels.KnownCapabilities)
        {
            yield return new Measurement<int>(value(registry.GetPool(method)), new KeyValuePair<string, object?>(Tags.Method, method));
        }
    }

    private static IEnumerable<Measurement<T>> PerAgent<T>(AgentRegistry registry, Func<AgentState, T> value) where T : struct
    {
        foreach (var agent in registry.Agents)
        {
            yield return new Measurement<T>(value(agent), new KeyValuePair<string, object?>(Tags.Agent, agent.AgentId));
        }
    }

    private static IEnumerable<Measurement<double>> AgentLatencies(AgentRegistry registry)
    {
        foreach (var agent in registry.Agents)
        {
            foreach (var (method, estimate) in agent.Latencies)
            {
                if (estimate.HasValue)
                {
                    yield return new Measurement<double>(estimate.Milliseconds / 1000.0,
                        new KeyValuePair<string, object?>(Tags.Agent, agent.AgentId), new KeyValuePair<string, object?>(Tags.Method, method));
                }
            }
        }
    }

    private static IEnumerable<Measurement<long>> GcCollections()
    {
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            yield return new Measurement<long>(GC.CollectionCount(generation), new KeyValuePair<string, object?>(Tags.Generation, generation.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Instrument names (Prometheus family names; counters get <c>_total</c> in the exposition).</summary>
    public static class Names
    {
        public const string TasksSubmitted = "aicp_tasks_submitted";
        public const string TasksCompleted = "aicp_tasks_completed";
        public const string TaskAttempts = "aicp_task_attempts";
        public const string Failovers = "aicp_failovers";
        public const string TaskDuration = "aicp_task_duration_seconds";
        public const string RoutingDecision = "aicp_routing_decision_seconds";
        public const string LateCompletions = "aicp_late_completions";
        public const string ForeignCompletions = "aicp_foreign_completions";
        public const string AgentsConnected = "aicp_agents_connected";
        public const string CapabilityAgents = "aicp_capability_agents";
        public const string CapabilityHealthyAgents = "aicp_capability_healthy_agents";
        public const string QueueDepth = "aicp_queue_depth";
        public const string AgentPending = "aicp_agent_pending";
        public const string AgentMaxConcurrency = "aicp_agent_max_concurrency";
        public const string AgentTrust = "aicp_agent_trust";
        public const string AgentLatency = "aicp_agent_latency_ewma_seconds";
        public const string AgentCircuitState = "aicp_agent_circuit_state";
        public const string ProcessCpu = "process_cpu_seconds";
        public const string ProcessResidentMemory = "process_resident_memory_bytes";
        public const string ProcessStartTime = "process_start_time_seconds";
        public const string GcCollections = "dotnet_gc_collections";
        public const string GcHeapSize = "dotnet_gc_heap_size_bytes";
    }

    /// <summary>Tag (label) names.</summary>
    public static class Tags
    {
        public const string Method = "method";
        public const string Status = "status";
        public const string Agent = "agent";
        public const string Outcome = "outcome";
        public const string Generation = "generation";
    }
}
