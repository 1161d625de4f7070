using System.Collections.Concurrent;
using System.Diagnostics;
using Aicp.Hub.Registry;
using Aicp.Protocol;

namespace Aicp.Hub.Observability;

/// <summary>
/// What the dispatcher tells observability, in one place: each call is a one-line hook in the task lifecycle
/// and fans out to metrics (<see cref="HubMetrics"/>), the route log, the capacity planner and tracing.
/// Never throws into the dispatcher; all work is O(1): a label's metric series are looked up once per call.
/// </summary>
internal sealed class TaskTelemetry(HubMetrics metrics, RouteLog routes, CapacityPlanner capacity, AgentRegistry registry, TimeProvider time,
    ILogger<TaskTelemetry> logger)
{
    // Live attempt spans by task id, so an agent's completion span can join the attempt's trace. Only filled
    // while something listens to the ActivitySource; an entry lives exactly as long as its attempt.
    private readonly ConcurrentDictionary<string, Activity> _attemptSpans = new(StringComparer.Ordinal);

    /// <summary>A task was submitted; dispose the result when the task has its final result.</summary>
    public TaskObservation StartTask(TaskRequest? request)
    {
        var series = metrics.ForMethod(request?.Method);
        metrics.TaskSubmitted(series);
        capacity.TaskArrived(series.Label);
        var span = HubTracing.Source.StartActivity(HubTracing.SubmitSpan, ActivityKind.Server);
        if (span is not null)
        {
            span.SetTag(HubTracing.MethodTag, series.Label);
            span.SetTag(HubTracing.StrategyTag, request?.Strategy);
        }

        return new TaskObservation(this, series, time.GetTimestamp(), span);
    }

    /// <summary>A completion arrived for an attempt that had already ended, or for no attempt at all.</summary>
    public void LateCompletion() => metrics.LateCompletion();

    /// <summary>A chunk arrived for an attempt that had ended, or for no attempt at all.</summary>
    public void LateChunk() => metrics.LateChunk();

    /// <summary>A chunk of a streamed task was taken for its submitter.</summary>
    public void ChunkForwarded(string method) => metrics.ChunkForwarded(metrics.ForMethod(method));

    /// <summary>A completion (or a chunk) arrived from a connection its attempt was not assigned to.</summary>
    public void ForeignCompletion() => metrics.ForeignCompletion();

    /// <summary>A task's result came from its hedge, not from the attempt the hedge was sent for.</summary>
    public void HedgeWon(string method) => metrics.HedgeWon(metrics.ForMethod(method));

    /// <summary>A failover was due but the capability's retry budget was spent.</summary>
    public void RetryBudgetExhausted(string method) => metrics.RetryBudgetExhausted(metrics.ForMethod(method));

    /// <summary>An attempt of a task this node runs ran on another node's agent (its node took it): a failover when not the task's first.</summary>
    public void RemoteAttemptRan(int attempts, string method)
    {
        if (attempts > 1)
        {
            metrics.Failover(metrics.ForMethod(method));
        }
    }

    /// <summary>Another node refused an attempt this node sent to one of its agents (its view was stale: the agent was full, draining or gone).</summary>
    public void RemoteRefused() => metrics.ClusterRefused();

    /// <summary>A router method classified a task by <paramref name="rule"/>.</summary>
    public void IntentRouted(string router, string rule) => metrics.IntentRouted(router, rule);

    /// <summary>A task left <paramref name="method"/> for the next capability of its fallback chain.</summary>
    public void FellBack(string method) => metrics.FellBack(metrics.ForMethod(method));

    /// <summary>A task's deadline could not be met (<c>deadline_unreachable</c>) or passed (<c>deadline_exceeded</c>).</summary>
    public void DeadlineMissed(string method, string code) => metrics.DeadlineMissed(metrics.ForMethod(method), code);

    /// <summary>The strategy picked (or failed to pick) an agent in <paramref name="elapsed"/>.</summary>
    public void RoutingDecided(TimeSpan elapsed) => metrics.RoutingDecided(elapsed.TotalSeconds);

    /// <summary>
    /// An attempt is about to be sent (a <paramref name="hedge"/>, or a failover when not the first of a task this node
    /// runs: <paramref name="forPeer"/> attempts, which another node of a cluster sends, are counted there); returns its
    /// span (null when nobody listens).
    /// </summary>
    public Activity? StartAttempt(string taskId, int attempt, string method, AgentState agent, bool hedge = false, bool forPeer = false)
    {
        if (hedge)
        {
            metrics.Hedge(metrics.ForMethod(method));
        }
        else if (attempt > 1 && !forPeer)
        {
            metrics.Failover(metrics.ForMethod(method));
        }

        var span = HubTracing.Source.StartActivity(HubTracing.AttemptSpan, ActivityKind.Client);
        if (span is not null)
        {
            span.SetTag(HubTracing.TaskIdTag, taskId);
            span.SetTag(HubTracing.MethodTag, method);
            span.SetTag(HubTracing.AttemptTag, attempt);
            span.SetTag(HubTracing.AgentTag, agent.AgentId);
            _attemptSpans[taskId] = span;
        }

        return span;
    }

    /// <summary>An attempt ended; <paramref name="entry"/> is the route entry the dispatcher built for it.</summary>
    public void AttemptEnded(Activity? span, string taskId, int attempt, string method, RouteEntry entry)
    {
        var series = metrics.ForMethod(method);
        metrics.AttemptEnded(series, entry.AgentId, entry.Outcome);
        capacity.AttemptEnded(series.Label, entry.Ms / 1000.0);
        routes.Add(time.GetUtcNow(), taskId, attempt, method, entry);

        if (span is not null)
        {
            _attemptSpans.TryRemove(new KeyValuePair<string, Activity>(taskId, span));
            span.SetTag(HubTracing.OutcomeTag, entry.Outcome);
            span.SetTag(HubTracing.CandidatesTag, entry.Candidates);
            if (entry.Error is { } error)
            {
                span.SetTag(HubTracing.ErrorCodeTag, error.Code);
            }

            span.SetStatus(entry.Outcome == AttemptOutcomes.Completed ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            span.Dispose();
        }
    }

    /// <summary>An agent's completion arrived; returns its span (null when nobody listens). Dispose after handling it.</summary>
    public Activity? StartCompletion(string connectionId, TaskCompletion completion)
    {
        if (!HubTracing.Source.HasListeners())
        {
            return null;
        }

        var parent = completion.TaskId is not null && _attemptSpans.TryGetValue(completion.TaskId, out var attemptSpan) ? attemptSpan : null;
        var matched = parent is not null && parent.GetTagItem(HubTracing.AttemptTag) is int number && number == completion.Attempt;
        var span = HubTracing.Source.StartActivity(HubTracing.CompleteSpan, ActivityKind.Server, parent?.Context ?? default);
        if (span is not null)
        {
            span.SetTag(HubTracing.TaskIdTag, completion.TaskId);
            span.SetTag(HubTracing.AttemptTag, completion.Attempt);
            span.SetTag(HubTracing.AgentTag, registry.GetByConnection(connectionId)?.AgentId);
            span.SetTag(HubTracing.OutcomeTag, completion.Ok ? AttemptOutcomes.Completed : AttemptOutcomes.Error);
            span.SetTag(HubTracing.MatchedTag, matched);
            if (completion.Error is { } error)
            {
                span.SetTag(HubTracing.ErrorCodeTag, error.Code);
            }
        }

        return span;
    }

    internal void TaskFinished(HubMetrics.MethodSeries series, long started, Activity? span, TaskResult result)
    {
        var method = series.Label;
        metrics.TaskFinished(series, result.Status, time.GetElapsedTime(started).TotalSeconds);
        if (result.Status == TaskStatuses.Completed)
        {
            Log.TaskCompleted(logger, result.TaskId, method, result.AgentId ?? "", result.Attempts, result.LatencyMs);
        }
        else
        {
            Log.TaskNotCompleted(logger, result.TaskId, method, result.Status, result.Attempts, result.LatencyMs);
        }

        if (span is not null)
        {
            span.SetTag(HubTracing.TaskIdTag, result.TaskId);
            span.SetTag(HubTracing.StatusTag, result.Status);
            span.SetTag(HubTracing.OutcomeTag, result.Status);
            span.SetTag(HubTracing.AgentTag, result.AgentId);
            span.SetTag(HubTracing.AttemptsTag, result.Attempts);
            span.SetTag(HubTracing.StrategyTag, result.Strategy);
            if (result.Error is { } error)
            {
                span.SetTag(HubTracing.ErrorCodeTag, error.Code);
            }

            span.SetStatus(result.Status == TaskStatuses.Completed ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
        }
    }
}

/// <summary>One task under observation: call <see cref="Finished"/> with the final result, then dispose.</summary>
internal readonly struct TaskObservation(TaskTelemetry telemetry, HubMetrics.MethodSeries series, long started, Activity? span) : IDisposable
{
    public void Finished(TaskResult result) => telemetry.TaskFinished(series, started, span, result);

    public void Dispose() => span?.Dispose();
}
