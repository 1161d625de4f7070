using Aicp.Protocol;
using System.Diagnostics.Metrics;
using static Aicp.Hub.Observability.MetricFamilies;

namespace Aicp.Hub.Observability;

// The same metrics as a System.Diagnostics.Metrics Meter (Aicp.Hub), for OTLP export (OtlpExport) and for any
// MeterListener such as dotnet-counters. Instrument names are the family names without the counter suffix.
//
// Counters and gauges are observable instruments: each collection reads the prometheus-net counters above and the
// live state (through LiveStateGauges' readers), so no event is counted twice. The two histograms are the one
// exception: System.Diagnostics.Metrics has no observable histogram, and the OpenTelemetry SDK cannot take buckets
// aggregated elsewhere, so each duration is also recorded here, at the same call site, and only while something
// listens (an instrument without a listener is not Enabled and costs one check).
internal sealed partial class HubMetrics
{
    public const string MeterName = "Aicp.Hub";

    private readonly Histogram<double> _meterTaskDuration;
    private readonly Histogram<double> _meterRoutingDecision;

    /// <summary>The hub's meter: observable views over the counters above, the live state and the process.</summary>
    public Meter Meter { get; }

    /// <summary>The task duration histogram on <see cref="Meter"/> (tags method and status), recorded while something listens to it.</summary>
    public Instrument TaskDurationInstrument => _meterTaskDuration;

    private (Histogram<double> TaskDuration, Histogram<double> RoutingDecision) CreateMeterInstruments()
    {
        ObservableCounter(TasksSubmitted, () => PerMethod(static s => s.Submitted.Value));
        ObservableCounter(TasksCompleted, CompletedMeasurements);
        ObservableCounter(TaskAttempts, AttemptMeasurements);
        ObservableCounter(Failovers, () => PerMethod(static s => s.Failovers.Value));
        ObservableCounter(Hedges, () => PerMethod(static s => s.Hedges.Value));
        ObservableCounter(HedgesWon, () => PerMethod(static s => s.HedgesWon.Value));
        ObservableCounter(MetricFamilies.RetryBudgetExhausted, () => PerMethod(static s => s.RetryBudgetExhausted.Value));
        ObservableCounter(Fallbacks, () => PerMethod(static s => s.Fallbacks.Value));
        ObservableCounter(IntentRoutes, () => _intentRules.Select(static r => new Measurement<double>(r.Value.Value,
            new KeyValuePair<string, object?>(Tags.Router, r.Key.Router), new KeyValuePair<string, object?>(Tags.Rule, r.Key.Rule))));
        ObservableCounter(DeadlineMisses, DeadlineMissMeasurements);
        ObservableCounter(CircuitTransitions, () => Enumerable.Range(0, CircuitStates.Length).Select(i =>
            new Measurement<double>(_circuitTransitions[i].Value, new KeyValuePair<string, object?>(Tags.State, CircuitStates[i]))));
        ObservableCounter(FrontDoorRequests, FrontDoorMeasurements);
        ObservableCounter(LateCompletions, () => [new(_lateCompletions.Value)]);
        ObservableCounter(StreamChunks, () => PerMethod(static s => s.StreamChunks.Value));
        ObservableCounter(LateChunks, () => [new(_lateChunks.Value)]);
        ObservableCounter(ForeignCompletions, () => [new(_foreignCompletions.Value)]);
        ObservableCounter(ForbiddenCalls, () => [new(_forbiddenCalls.Value)]);
        ObservableCounter(OversizeResults, () => [new(_oversizeResults.Value)]);
        ObservableCounter(SecurityEvents, () => _securityEvents.Select((child, kind) =>
            new Measurement<double>(child.Value, new KeyValuePair<string, object?>(Tags.Kind, Security.SecurityEventKinds.Labels[kind]))));

        ObservableGauge(AgentsConnected, () => [new(_registry.Count)]);
        foreach (var gauge in _liveState.PerCapability)
        {
            ObservableGauge(gauge.Family, () => Labels.KnownCapabilities.Select(method =>
                new Measurement<double>(gauge.Read(_registry.GetPool(method)), new KeyValuePair<string, object?>(Tags.Method, method))));
        }

        foreach (var gauge in _liveState.PerAgent)
        {
            ObservableGauge(gauge.Family, () => _registry.Agents.Select(agent =>
                new Measurement<double>(gauge.Read(agent), new KeyValuePair<string, object?>(Tags.Agent, agent.AgentId))));
        }

        ObservableGauge(AgentLatency, () => _registry.Agents.SelectMany(agent => LiveStateGauges.LatencySeconds(agent).Select(l =>
            new Measurement<double>(l.Seconds, new KeyValuePair<string, object?>(Tags.Agent, agent.AgentId), new KeyValuePair<string, object?>(Tags.Method, l.Method)))));

        ObservableCounter(ProcessCpu, () => [new(Environment.CpuUsage.TotalTime.TotalSeconds)]);
        ObservableGauge(ProcessResidentMemory, () => [new(Environment.WorkingSet)]);
        ObservableGauge(ProcessStartTime, () => [new(LiveStateGauges.ProcessStartSeconds)]);
        ObservableCounter(GcCollections, () => Enumerable.Range(0, GC.MaxGeneration + 1).Select(generation =>
            new Measurement<double>(GC.CollectionCount(generation), new KeyValuePair<string, object?>(Tags.Generation, LiveStateGauges.Generation(generation)))));
        ObservableGauge(GcHeapSize, () => [new(GC.GetTotalMemory(false))]);
        ObservableGauge(ClusterNodes, () => [new(_clusterNodes.Value)]);
        ObservableGauge(ClusterRedisUp, () => [new(_clusterRedisUp.Value)]);
        ObservableCounter(ClusterBadMessages, () => [new(_clusterBadMessages.Value)]);
        ObservableCounter(ClusterRefusals, () => [new(_clusterRefusals.Value)]);

        return (Histogram(TaskDuration, TaskDurationBuckets), Histogram(RoutingDecision, RoutingDecisionBuckets));
    }

    private IEnumerable<Measurement<double>> PerMethod(Func<MethodSeries, double> value)
    {
        foreach (var (label, series) in _methods)
        {
            yield return new Measurement<double>(value(series), new KeyValuePair<string, object?>(Tags.Method, label));
        }
    }

    private IEnumerable<Measurement<double>> DeadlineMissMeasurements()
    {
        foreach (var (label, series) in _methods)
        {
            yield return new Measurement<double>(series.DeadlineUnreachable.Value,
                new KeyValuePair<string, object?>(Tags.Method, label), new KeyValuePair<string, object?>(Tags.Code, ErrorCodes.DeadlineUnreachable));
            yield return new Measurement<double>(series.DeadlineExceeded.Value,
                new KeyValuePair<string, object?>(Tags.Method, label), new KeyValuePair<string, object?>(Tags.Code, ErrorCodes.DeadlineExceeded));
        }
    }

    private IEnumerable<Measurement<double>> CompletedMeasurements()
    {
        foreach (var (label, series) in _methods)
        {
            for (var i = 0; i < Statuses.Length; i++)
            {
                yield return new Measurement<double>(series.Completed[i].Value,
                    new KeyValuePair<string, object?>(Tags.Method, label), new KeyValuePair<string, object?>(Tags.Status, Statuses[i]));
            }
        }
    }

    private IEnumerable<Measurement<double>> AttemptMeasurements()
    {
        foreach (var (label, series) in _methods)
        {
            foreach (var (agentId, children) in series.Attempts)
            {
                for (var i = 0; i < Outcomes.Length; i++)
                {
                    yield return new Measurement<double>(children[i].Value, new KeyValuePair<string, object?>(Tags.Agent, agentId),
                        new KeyValuePair<string, object?>(Tags.Method, label), new KeyValuePair<string, object?>(Tags.Outcome, Outcomes[i]));
                }
            }
        }
    }

    private void ObservableCounter(MetricFamily family, Func<IEnumerable<Measurement<double>>> observe) =>
        Meter.CreateObservableCounter(family.OtlpName, observe, family.Unit, family.Help);

    private void ObservableGauge(MetricFamily family, Func<IEnumerable<Measurement<double>>> observe) =>
        Meter.CreateObservableGauge(family.OtlpName, observe, family.Unit, family.Help);

    private Histogram<double> Histogram(MetricFamily family, double[] buckets) =>
        Meter.CreateHistogram(family.OtlpName, family.Unit, family.Help, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });
}
