using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Prometheus;
using static Aicp.Hub.Observability.MetricFamilies;

namespace Aicp.Hub.Observability;

/// <summary>
/// The hub's metrics, on prometheus-net's native <see cref="Counter"/>, <see cref="Gauge"/> and
/// <see cref="Histogram"/> (families declared in <see cref="MetricFamilies"/>).
/// <list type="bullet">
/// <item>Each hub owns a <see cref="CollectorRegistry"/> (several hubs may share a process); <c>/metrics</c> serves it
/// with prometheus-net.AspNetCore. prometheus-net's default registry, with its meter adapter, event-counter adapter
/// and process collectors, is not used.</item>
/// <item>Every event is counted once, where it happens, into a labelled child cached per method label
/// (<see cref="MethodSeries"/>) and, for attempts, per agent within it: recording finds the cached child by
/// dictionary lookups and allocates nothing. A method label's counters are published at 0 as soon as the label becomes known
/// (<see cref="MetricLabels.CapabilityLearned"/>); counters without labels exist from the start.</item>
/// <item>Gauges that mirror live state are set just before each collection (HubMetrics.Scrape.cs); an agent's
/// series go when it leaves the registry.</item>
/// <item>The status API reads these counters (<see cref="HubCounters"/>); OTLP reads them through observable
/// instruments on <see cref="Meter"/> (HubMetrics.Meter.cs).</item>
/// </list>
/// </summary>
internal sealed partial class HubMetrics : IDisposable
{
    /// <summary>Final task statuses, in the order of <see cref="MethodSeries.Completed"/>.</summary>
    private static readonly string[] Statuses =
    [
        TaskStatuses.Completed, TaskStatuses.Failed, TaskStatuses.Timeout, TaskStatuses.NoAgents, TaskStatuses.Rejected,
        TaskStatuses.Overloaded, TaskStatuses.Cancelled, TaskStatuses.RateLimited,
    ];

    /// <summary>Circuit states by <see cref="Health.CircuitState"/> value, as the transition counter's labels.</summary>
    private static readonly string[] CircuitStates =
        [Health.CircuitStateNames.Closed, Health.CircuitStateNames.Open, Health.CircuitStateNames.HalfOpen];

    /// <summary>Attempt outcomes, in the order of an agent's children in <see cref="MethodSeries.Attempts"/>.</summary>
    private static readonly string[] Outcomes =
        [AttemptOutcomes.Completed, AttemptOutcomes.Error, AttemptOutcomes.Timeout, AttemptOutcomes.Disconnected, AttemptOutcomes.Cancelled,
         AttemptOutcomes.Superseded];

    private readonly AgentRegistry _registry;
    private readonly ConcurrentDictionary<string, MethodSeries> _methods = new(StringComparer.Ordinal);
    private readonly Counter _submitted;
    private readonly Counter _completed;
    private readonly Counter _attempts;
    private readonly Counter _failovers;
    private readonly Counter _hedges;
    private readonly Counter _hedgesWon;
    private readonly Counter _retryBudgetExhausted;
    private readonly Counter _fallbacks;
    private readonly Counter _intentRoutes;
    private readonly ConcurrentDictionary<(string Router, string Rule), Counter.Child> _intentRules = new();
    private readonly Counter _deadlineMisses;
    private readonly Counter.Child[] _circuitTransitions;
    private readonly Histogram _taskDuration;
    private readonly Histogram _routingDecision;
    private readonly Counter _lateCompletions;
    private readonly Counter _streamChunks;
    private readonly Counter _lateChunks;
    private readonly Counter _foreignCompletions;
    private readonly Counter _forbiddenCalls;
    private readonly Counter _oversizeResults;
    private readonly Counter.Child[] _securityEvents;

    static HubMetrics()
    {
        // prometheus-net fills its default registry (meter adapter, event-counter adapter, process metrics) when
        // that registry is first collected. The hub never serves it; should anything in the process collect it,
        // it stays empty instead of re-exporting the Aicp.Hub meter under other names and types.
        Metrics.SuppressDefaultMetrics();
    }

    public HubMetrics(AgentRegistry registry, MetricLabels labels, IMeterFactory meterFactory)
    {
        _registry = registry;
        Labels = labels;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);

        // No exemplars: the 0.0.4 text format the hub serves has none, and taking one from the current trace
        // context would cost on every increment.
        factory.ExemplarBehavior = new ExemplarBehavior();

        _submitted = CreateCounter(factory, TasksSubmitted);
        _completed = CreateCounter(factory, TasksCompleted);
        _attempts = CreateCounter(factory, TaskAttempts);
        _failovers = CreateCounter(factory, Failovers);
        _hedges = CreateCounter(factory, Hedges);
        _hedgesWon = CreateCounter(factory, HedgesWon);
        _retryBudgetExhausted = CreateCounter(factory, MetricFamilies.RetryBudgetExhausted);
        _fallbacks = CreateCounter(factory, Fallbacks);
        _intentRoutes = CreateCounter(factory, IntentRoutes);
        _deadlineMisses = CreateCounter(factory, DeadlineMisses);
        var transitions = CreateCounter(factory, CircuitTransitions);
        _circuitTransitions = Array.ConvertAll(CircuitStates, state => transitions.WithLabels(state));
        _taskDuration = factory.CreateHistogram(TaskDuration.Name, TaskDuration.Help, TaskDuration.Labels,
            new HistogramConfiguration { Buckets = TaskDurationBuckets });
        _routingDecision = factory.CreateHistogram(RoutingDecision.Name, RoutingDecision.Help, RoutingDecision.Labels,
            new HistogramConfiguration { Buckets = RoutingDecisionBuckets });
        _lateCompletions = CreateCounter(factory, LateCompletions);
        _streamChunks = CreateCounter(factory, StreamChunks);
        _lateChunks = CreateCounter(factory, LateChunks);
        _foreignCompletions = CreateCounter(factory, ForeignCompletions);
        _forbiddenCalls = CreateCounter(factory, ForbiddenCalls);
        _oversizeResults = CreateCounter(factory, OversizeResults);
        var securityEvents = CreateCounter(factory, SecurityEvents);
        _securityEvents = Array.ConvertAll(Security.SecurityEventKinds.Labels, kind => securityEvents.WithLabels(kind)); // every kind at 0 from the start
        CreateFrontDoorCounters(factory);
        CreateClusterMetrics(factory);

        // Unlabelled series exist (at 0) from the start, the method labels known so far from now on, later ones as they come.
        foreach (var unlabelled in new[] { _lateCompletions, _lateChunks, _foreignCompletions, _forbiddenCalls, _oversizeResults })
        {
            unlabelled.Publish();
        }

        _routingDecision.Publish();
        labels.CapabilityLearned += OnCapabilityLearned;
        PublishMethod(MetricLabels.Unknown);
        foreach (var method in labels.KnownCapabilities)
        {
            PublishMethod(method);
        }

        _liveState = new LiveStateGauges(factory);
        Registry.AddBeforeCollectCallback(RefreshLiveState);
        registry.AgentRemoved += OnAgentRemoved;
        registry.CircuitTransitioned += OnCircuitTransitioned;

        Meter = meterFactory.Create(MeterName);
        (_meterTaskDuration, _meterRoutingDecision) = CreateMeterInstruments();
    }

    /// <summary>This hub's registry: what <c>/metrics</c> serves.</summary>
    public CollectorRegistry Registry { get; }

    public MetricLabels Labels { get; }

    /// <summary>The series of the method's label (<see cref="MetricLabels.Method"/>); the same object for every call with that label.</summary>
    public MethodSeries ForMethod(string? method)
    {
        var label = Labels.Method(method);
        return _methods.TryGetValue(label, out var series) ? series : PublishMethod(label);
    }

    public void TaskSubmitted(MethodSeries method) => method.Submitted.Inc();

    /// <summary>A task reached its final result after <paramref name="seconds"/>.</summary>
    public void TaskFinished(MethodSeries method, string status, double seconds)
    {
        var index = StatusIndex(status);
        if (index >= 0)
        {
            method.Completed[index].Inc();
            method.Duration(index).Observe(seconds);
        }
        else
        {
            _completed.WithLabels(method.Label, status).Inc();
            _taskDuration.WithLabels(method.Label, status).Observe(seconds);
        }

        if (_meterTaskDuration.Enabled)
        {
            _meterTaskDuration.Record(seconds, new(Tags.Method, method.Label), new(Tags.Status, status));
        }
    }

    /// <summary>A Submit refused before it reached the dispatcher: it counts as submitted and finished, without a duration.</summary>
    public void TaskRefused(MethodSeries method, string status)
    {
        method.Submitted.Inc();
        var index = StatusIndex(status);
        (index >= 0 ? method.Completed[index] : _completed.WithLabels(method.Label, status)).Inc();
    }

    public void Failover(MethodSeries method) => method.Failovers.Inc();

    public void Hedge(MethodSeries method) => method.Hedges.Inc();

    public void HedgeWon(MethodSeries method) => method.HedgesWon.Inc();

    public void RetryBudgetExhausted(MethodSeries method) => method.RetryBudgetExhausted.Inc();

    public void FellBack(MethodSeries method) => method.Fallbacks.Inc();

    /// <summary>
    /// A router classified a task by <paramref name="rule"/>. The labels are bounded by the routing file (its routers and
    /// their rules, at most 64 each); a rule's series stays when a reload removes the rule.
    /// </summary>
    public void IntentRouted(string router, string rule) =>
        _intentRules.GetOrAdd((router, rule), static (key, family) => family.WithLabels(key.Router, key.Rule), _intentRoutes).Inc();

    /// <summary>Tasks a router classified by a rule since start (0 for a rule never matched).</summary>
    public long IntentRoutesTotal(string router, string rule) => _intentRules.TryGetValue((router, rule), out var child) ? (long)child.Value : 0;

    /// <summary>A deadline miss; <paramref name="code"/> is <c>deadline_unreachable</c> or <c>deadline_exceeded</c>.</summary>
    public void DeadlineMissed(MethodSeries method, string code) =>
        (code == ErrorCodes.DeadlineUnreachable ? method.DeadlineUnreachable : method.DeadlineExceeded).Inc();

    public void AttemptEnded(MethodSeries method, string agentId, string outcome)
    {
        var children = method.Attempts.TryGetValue(agentId, out var cached) ? cached : PublishAttempts(method, agentId);
        var index = OutcomeIndex(outcome);
        (index >= 0 ? children[index] : _attempts.WithLabels(agentId, method.Label, outcome)).Inc();
    }

    public void RoutingDecided(double seconds)
    {
        _routingDecision.Observe(seconds);
        if (_meterRoutingDecision.Enabled)
        {
            _meterRoutingDecision.Record(seconds);
        }
    }

    public void LateCompletion() => _lateCompletions.Inc();

    public void LateChunk() => _lateChunks.Inc();

    public void ChunkForwarded(MethodSeries method) => method.StreamChunks.Inc();

    public long LateChunksTotal => (long)_lateChunks.Value;

    public long StreamChunksTotal => SumOverMethods(static s => s.StreamChunks.Value);

    /// <summary>Counted twice on purpose: <c>aicp_foreign_completions_total</c> and the security event of the same name.</summary>
    public void ForeignCompletion()
    {
        _foreignCompletions.Inc();
        SecurityEvent(Security.SecurityEventKind.ForeignCompletion);
    }

    public void SecurityEvent(Security.SecurityEventKind kind) => _securityEvents[(int)kind].Inc();

    /// <summary>Security events of one kind since start.</summary>
    public long SecurityEventsTotal(Security.SecurityEventKind kind) => (long)_securityEvents[(int)kind].Value;

    public void ForbiddenCall() => _forbiddenCalls.Inc();

    public void OversizeResult() => _oversizeResults.Inc();

    /// <summary>Tasks submitted since start, over all methods.</summary>
    public long SubmittedTotal => SumOverMethods(static s => s.Submitted.Value);

    /// <summary>Tasks that finished with <paramref name="status"/> since start, over all methods.</summary>
    public long CompletedTotal(string status)
    {
        var index = StatusIndex(status);
        return index < 0 ? 0 : SumOverMethods(s => s.Completed[index].Value);
    }

    public long FailoversTotal => SumOverMethods(static s => s.Failovers.Value);

    public long HedgesTotal => SumOverMethods(static s => s.Hedges.Value);

    public long HedgesWonTotal => SumOverMethods(static s => s.HedgesWon.Value);

    public long RetryBudgetExhaustedTotal => SumOverMethods(static s => s.RetryBudgetExhausted.Value);

    public long FallbacksTotal => SumOverMethods(static s => s.Fallbacks.Value);

    public long LateCompletionsTotal => (long)_lateCompletions.Value;

    public long ForeignCompletionsTotal => (long)_foreignCompletions.Value;

    public long ForbiddenCallsTotal => (long)_forbiddenCalls.Value;

    public long OversizeResultsTotal => (long)_oversizeResults.Value;

    /// <summary>The final statuses counted per method, in a fixed order.</summary>
    public static IReadOnlyList<string> FinalStatuses => Statuses;

    public void Dispose()
    {
        Labels.CapabilityLearned -= OnCapabilityLearned;
        _registry.AgentRemoved -= OnAgentRemoved;
        _registry.CircuitTransitioned -= OnCircuitTransitioned;
    }

    private static Counter CreateCounter(MetricFactory factory, MetricFamily family) => factory.CreateCounter(family.Name, family.Help, family.Labels);

    private static int StatusIndex(string status) => status switch
    {
        TaskStatuses.Completed => 0,
        TaskStatuses.Failed => 1,
        TaskStatuses.Timeout => 2,
        TaskStatuses.NoAgents => 3,
        TaskStatuses.Rejected => 4,
        TaskStatuses.Overloaded => 5,
        TaskStatuses.Cancelled => 6,
        TaskStatuses.RateLimited => 7,
        _ => -1,
    };

    private static int OutcomeIndex(string outcome) => outcome switch
    {
        AttemptOutcomes.Completed => 0,
        AttemptOutcomes.Error => 1,
        AttemptOutcomes.Timeout => 2,
        AttemptOutcomes.Disconnected => 3,
        AttemptOutcomes.Cancelled => 4,
        AttemptOutcomes.Superseded => 5,
        _ => -1,
    };

    private long SumOverMethods(Func<MethodSeries, double> value)
    {
        double sum = 0;
        foreach (var (_, series) in _methods)
        {
            sum += value(series);
        }

        return (long)sum;
    }

    private void OnCapabilityLearned(string method) => PublishMethod(method);

    private void OnCircuitTransitioned(Health.CircuitTransition transition) => _circuitTransitions[(int)transition.To].Inc();

    /// <summary>Transitions counted, by the state entered.</summary>
    public long CircuitTransitionsTotal(Health.CircuitState to) => (long)_circuitTransitions[(int)to].Value;

    private MethodSeries PublishMethod(string label) =>
        _methods.GetOrAdd(label, static (l, self) => new MethodSeries(self, l), this);

    private Counter.Child[] PublishAttempts(MethodSeries method, string agentId) =>
        method.Attempts.GetOrAdd(agentId, static (agent, state) => Array.ConvertAll(Outcomes, o => state.Family.WithLabels(agent, state.Label, o)),
            (Family: _attempts, method.Label));

    /// <summary>
    /// The labelled children of one method label, created together (and so published at 0) when the label becomes
    /// known. Labels are never dropped (they are bounded by <see cref="MetricLabels"/>), so a cached child stays valid;
    /// attempt children are dropped with their agent.
    /// </summary>
    internal sealed class MethodSeries
    {
        private readonly Histogram _durationFamily;
        private readonly Histogram.Child?[] _durations = new Histogram.Child?[Statuses.Length];

        public MethodSeries(HubMetrics metrics, string label)
        {
            Label = label;
            Submitted = metrics._submitted.WithLabels(label);
            Failovers = metrics._failovers.WithLabels(label);
            Hedges = metrics._hedges.WithLabels(label);
            HedgesWon = metrics._hedgesWon.WithLabels(label);
            RetryBudgetExhausted = metrics._retryBudgetExhausted.WithLabels(label);
            Fallbacks = metrics._fallbacks.WithLabels(label);
            StreamChunks = metrics._streamChunks.WithLabels(label);
            DeadlineUnreachable = metrics._deadlineMisses.WithLabels(label, ErrorCodes.DeadlineUnreachable);
            DeadlineExceeded = metrics._deadlineMisses.WithLabels(label, ErrorCodes.DeadlineExceeded);
            Completed = Array.ConvertAll(Statuses, status => metrics._completed.WithLabels(label, status));
            _durationFamily = metrics._taskDuration;
        }

        public string Label { get; }

        public Counter.Child Submitted { get; }

        public Counter.Child Failovers { get; }

        public Counter.Child Hedges { get; }

        public Counter.Child HedgesWon { get; }

        public Counter.Child RetryBudgetExhausted { get; }

        public Counter.Child Fallbacks { get; }

        public Counter.Child StreamChunks { get; }

        public Counter.Child DeadlineUnreachable { get; }

        public Counter.Child DeadlineExceeded { get; }

        /// <summary>By status, in the order of <see cref="Statuses"/>.</summary>
        public Counter.Child[] Completed { get; }

        /// <summary>By agent id: the agent's children, in the order of <see cref="Outcomes"/>.</summary>
        public ConcurrentDictionary<string, Counter.Child[]> Attempts { get; } = new(StringComparer.Ordinal);

        /// <summary>The duration histogram of a status, created on its first observation (a race creates the same child twice).</summary>
        public Histogram.Child Duration(int statusIndex) =>
            _durations[statusIndex] ??= _durationFamily.WithLabels(Label, Statuses[statusIndex]);
    }
}
