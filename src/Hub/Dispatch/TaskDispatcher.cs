using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;
using Aicp.Hub.Cluster;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// The task lifecycle: validate, check the deadline can be met, pick, dispatch, wait for the attempt to end
/// (completion, error, timeout, agent loss or cancel), hedge a slow attempt of an idempotent capability, fail over to
/// an untried agent while the retry budget and the deadline allow, and produce exactly one final result.
/// Each attempt takes an agent slot before it is sent and gives it back in one <c>finally</c>, so every
/// pending count goes up and down exactly once per attempt.
/// </summary>
internal sealed partial class TaskDispatcher
{
    private const int PickRetries = 4;

    private readonly ConcurrentDictionary<(string TaskId, int Attempt), Attempt> _inFlight = new();
    private readonly ConditionalWeakTable<CapabilityPool, CapabilityDispatch> _perCapability = [];
    private readonly AgentRegistry _registry;
    private readonly RoutingStrategyCatalog _strategies;
    private readonly IAgentChannel _channel;
    private readonly TaskTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly IRandomSource _random;
    private readonly ILogger _logger;
    private readonly AicpHubOptions _options;
    private readonly FrozenSet<string> _hedgedCapabilities;
    private readonly ResiliencePipeline<AttemptResult> _hedging;
    private readonly ConditionalWeakTable<CapabilityPool, CapabilityDispatch>.CreateValueCallback _newDispatch;

    private readonly RoutingRulesStore _rules;
    private readonly RemoteAgents? _remote;

    public TaskDispatcher(AgentRegistry registry, RoutingStrategyCatalog strategies, IAgentChannel channel,
        TimeProvider time, IRandomSource random, IOptions<AicpHubOptions> options,
        ILogger<TaskDispatcher> logger, TaskTelemetry telemetry, RoutingRulesStore? rules = null, RemoteAgents? remote = null)
    {
        _remote = remote;
        _rules = rules ?? new RoutingRulesStore(RoutingRules.Empty);
        _telemetry = telemetry;
        _registry = registry;
        _strategies = strategies;
        _channel = channel;
        _time = time;
        _random = random;
        _options = options.Value;
        _logger = logger;
        _hedgedCapabilities = _options.Hedging.Capabilities.ToFrozenSet(StringComparer.Ordinal);
        _hedging = BuildHedgingPipeline(time);
        _newDispatch = pool => new CapabilityDispatch(_options, _time.TimestampFrequency, _hedgedCapabilities.Contains(pool.Method));
    }

    /// <summary>Attempts currently dispatched and not yet ended.</summary>
    public int InFlightCount => _inFlight.Count;

    /// <summary>Runs a task to its one final result. Never throws for a bad request or a failing agent.</summary>
    public async Task<TaskResult> SubmitAsync(TaskRequest request, CancellationToken cancellationToken)
    {
        var rules = _rules.Current;
        var intent = Classify(rules, ref request);
        using var observation = _telemetry.StartTask(request);
        var result = await RunTaskAsync(request, rules, intent, null, cancellationToken);
        observation.Finished(result);
        return result;
    }

    /// <summary>
    /// Starts a task whose submitter reads its output as it comes: the returned stream yields the chunks the agent sends
    /// with <c>Partial</c>, then the one final result. The task runs as any other (the same routing, limits and
    /// failover), except that it is not hedged, and that once a chunk was taken for the submitter a failed attempt ends
    /// the task (<c>stream_interrupted</c>) instead of failing over.
    /// </summary>
    public TaskStream SubmitStream(TaskRequest request, CancellationToken cancellationToken)
    {
        var stream = new TaskStream(_options.Streaming, _time, cancellationToken);
        _ = RunStreamAsync(request, stream);
        return stream;
    }

    private async Task RunStreamAsync(TaskRequest request, TaskStream stream)
    {
        var rules = _rules.Current;
        var intent = Classify(rules, ref request);
        using var observation = _telemetry.StartTask(request);
        TaskResult result;
        try
        {
            result = await RunTaskAsync(request, rules, intent, stream, stream.Token);
        }
        catch (Exception ex)
        {
            Log.StreamFailed(_logger, ex, stream.TaskId);
            stream.Fault(ex); // the reader sees the exception, as a Submit caller would
            return;
        }

        observation.Finished(result);
        stream.Complete(result);
    }

    /// <summary>
    /// A task sent to a router method of the rules: classified by the router's rules, and from here on a task for the
    /// capability they chose (the request is copied with that method). Null for any other task.
    /// </summary>
    private IntentMatch? Classify(RoutingRules rules, ref TaskRequest request)
    {
        if (rules.Routers.Count == 0 || request?.Method is not { } method || !rules.Routers.TryGetValue(method, out var router))
        {
            return null;
        }

        var (rule, capability) = router.Classify(request.Payload);
        _telemetry.IntentRouted(router.Name, rule);
        request = new TaskRequest
        {
            Method = capability, Payload = request.Payload, Strategy = request.Strategy, TimeoutMs = request.TimeoutMs,
            MaxAttempts = request.MaxAttempts, DeadlineMs = request.DeadlineMs, Fallbacks = request.Fallbacks,
        };
        return new IntentMatch { Router = router.Name, Rule = rule, Method = capability };
    }

    private async Task<TaskResult> RunTaskAsync(TaskRequest request, RoutingRules rules, IntentMatch? intent, TaskStream? stream,
        CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var taskId = TaskIds.New();
        stream?.Started(taskId);

        var error = Validate(request, request?.Method, rules, out var strategy, out var timeoutMs, out var maxAttempts)
            ?? ValidateFallbacks(request!);
        if (error is not null)
        {
            return new TaskResult
            {
                TaskId = taskId, Status = TaskStatuses.Rejected, Error = error,

                // Stryker disable once String,NullCoalescing : the method here is missing or not a valid name, and no capability of the rules has such a name: the default strategy either way
                Strategy = request?.Strategy ?? rules.StrategyFor(request?.Method ?? "", _options), Intent = intent,
            };
        }

        var fallbacks = request!.Fallbacks ?? rules.FallbacksFor(request.Method); // the request was checked above
        var deadline = request.DeadlineMs is { } deadlineMs ? started + MsToTicks(deadlineMs) : long.MaxValue;
        var run = new TaskRun(taskId, request, request.Method, strategy!, timeoutMs, maxAttempts, started, deadline,
            DispatchFor(request.Method), cancellationToken, stream, hasChain: fallbacks.Count > 0, intent);
        var result = await RunOnCapabilityAsync(run);
        for (var hop = 0; hop < fallbacks.Count && FallsBack(result, run); hop++)
        {
            // The capability could not serve the task: on to the next of the chain, with that capability's settings.
            var next = fallbacks[hop];
            _telemetry.FellBack(run.Method);
            AddSkipped(run, result);
            Log.FellBack(_logger, taskId, run.Method, next, result.Error?.Code ?? result.Status);
            Validate(request, next, rules, out strategy, out timeoutMs, out maxAttempts); // the rules and the request were checked: this hop's settings
            run = run.Next(next, strategy!, timeoutMs, maxAttempts, DispatchFor(next));
            result = await RunOnCapabilityAsync(run);
        }

        return result;
    }

    private CapabilityDispatch? DispatchFor(string method) => _registry.GetPool(method) is { } pool ? _perCapability.GetValue(pool, _newDispatch) : null;

    /// <summary>
    /// Whether a task that ended as <paramref name="result"/> on one capability goes on to the next of its chain: when
    /// the capability had no agent to take it (<c>no_agents</c>, <c>overloaded</c>, a queue or deadline forecast refusal)
    /// or all its attempts failed; not when the submitter cancelled, the deadline passed, or a stream's output was sent.
    /// </summary>
    private static bool FallsBack(TaskResult result, TaskRun run) =>
        result.Status is TaskStatuses.NoAgents or TaskStatuses.Overloaded or TaskStatuses.Failed or TaskStatuses.Timeout
        && result.Error?.Code is not (ErrorCodes.DeadlineExceeded or ErrorCodes.StreamInterrupted or ErrorCodes.SlowConsumer)
        && !run.CancellationToken.IsCancellationRequested
        && run.Stream is not { ChunksForwarded: > 0 };

    /// <summary>A capability of the chain that ended the task without sending it anywhere shows in the route as a skipped hop.</summary>
    private static void AddSkipped(TaskRun run, TaskResult result)
    {
        if (run.Attempts == 0)
        {
            run.AddRoute(new RouteEntry
            {
                AgentId = "", Method = run.Method, Outcome = AttemptOutcomes.Skipped, Strategy = run.Strategy.Name, Error = result.Error,
            });
        }
    }

    /// <summary>Runs the task on <paramref name="run"/>'s capability: the deadline forecast, then attempts until one completes or none is left.</summary>
    private async Task<TaskResult> RunOnCapabilityAsync(TaskRun run)
    {
        var request = run.Request;
        var dispatch = run.Dispatch;
        var stream = run.Stream;
        dispatch?.TaskSubmitted(run.Started);

        if (run.HasDeadline && _registry.GetPool(run.Method) is { } pool && CompletionForecast.EarliestMs(pool, _random, _time.GetTimestamp()) is { } forecast
            && forecast > (run.Deadline - _time.GetTimestamp()) * 1000.0 / _time.TimestampFrequency)
        {
            _telemetry.DeadlineMissed(run.Method, ErrorCodes.DeadlineUnreachable);
            return Finish(run, TaskStatuses.Timeout, TaskError.Of(ErrorCodes.DeadlineUnreachable,
                F($"The predicted completion ({forecast:F0} ms) is later than the deadline ({request.DeadlineMs} ms); the task was not sent.")), null);
        }

        AttemptResult? last = null;
        // Stryker disable once Boolean : on the first pass no attempt has ended (last is null), so no failover is due either way
        var failoverDue = false;
        while (run.AttemptsLeft > 0)
        {
            if (failoverDue && last is { } failed)
            {
                // A failover: only within the deadline and the capability's retry budget.
                var now = _time.GetTimestamp();
                if (now >= run.Deadline)
                {
                    _telemetry.DeadlineMissed(run.Method, ErrorCodes.DeadlineExceeded);
                    return Finish(run, TaskStatuses.Timeout, TaskError.Of(ErrorCodes.DeadlineExceeded,
                        $"The deadline ({request.DeadlineMs} ms) passed after attempt {run.TotalAttempts} ended {failed.End.Outcome}; no time was left to fail over."), failed.AgentId);
                }

                // An attempt cut off because its agent's node left the cluster does not draw on the budget: such failovers
                // are bounded by the attempts that were in flight on that node, and a node's death is not its agents
                // failing tasks (the storm the budget guards against).
                if (dispatch is not null && !failed.NodeLeft && !dispatch.Retries.TryWithdraw(now))
                {
                    _telemetry.RetryBudgetExhausted(run.Method);
                    return Finish(run, StatusOf(failed.End), TaskError.Of(ErrorCodes.RetryBudgetExhausted,
                        $"Attempt {run.TotalAttempts} ended {failed.End.Outcome} ({failed.End.Error?.Code}); the retry budget for '{run.Method}' is spent, so the task was not sent to another agent."),
                        failed.AgentId);
                }
            }

            failoverDue = false;
            var attemptTimeoutMs = AttemptTimeoutMs(run);
            var acquired = await AcquireAsync(run, attemptTimeoutMs);
            int number;
            if (acquired.Remote is { } remote)
            {
                number = run.StartAttempt(remote.Agent.Id);
                var ran = await RunRemoteAttemptAsync(run, remote, number, attemptTimeoutMs);
                if (ran is null)
                {
                    // Its node refused (full as it knows, or gone): nothing ran. Pick again after a pause that grows with the
                    // refusals (2 to 50 ms), so that a view that is a heartbeat old does not drive a storm of them.
                    run.Refused();
                    if (_time.GetElapsedTime(run.Started) > TimeSpan.FromMilliseconds(run.TimeoutMs))
                    {
                        // A backstop: refused for longer than an attempt may wait (views are at most a heartbeat old).
                        return Finish(run, TaskStatuses.Timeout, TaskError.Of(ErrorCodes.QueueTimeout,
                            $"Other nodes refused the task {run.Refusals} time(s) within {run.TimeoutMs} ms; no agent slot for '{run.Method}' freed up."), last?.AgentId);
                    }

                    if (!await PauseAsync(TimeSpan.FromMilliseconds(Math.Min(1 << Math.Min(run.Refusals, 6), 50)), run.CancellationToken))
                    {
                        return Finish(run, TaskStatuses.Cancelled, AttemptEnd.Cancelled.Error, last?.AgentId);
                    }

                    continue;
                }

                last = ran;
            }
            else if (acquired.Agent is null)
            {
                if (acquired.Status == TaskStatuses.NoAgents && last is not null)
                {
                    break; // every agent was tried: the last attempt's outcome decides
                }

                if (acquired.Error?.Code == ErrorCodes.DeadlineExceeded)
                {
                    _telemetry.DeadlineMissed(run.Method, ErrorCodes.DeadlineExceeded);
                }

                return Finish(run, acquired.Status, acquired.Error, last?.AgentId);
            }
            else
            {
                number = run.StartAttempt(acquired.Agent.AgentId);
                // Stryker disable once Equality,Logical : a round on a capability that is not hedged, or with no attempt left, declines its hedge (no hedge budget is deposited for it; no attempt left) and runs the primary alone
                last = dispatch is { Hedged: true } && run.AttemptsLeft > 0 && stream is null
                    ? await RunHedgedAsync(run, dispatch, acquired, number, attemptTimeoutMs)
                    : await RunAttemptAsync(run, acquired, number, attemptTimeoutMs, hedge: false, run.CancellationToken);
            }

            failoverDue = true;
            var end = last.Value.End;
            if (end.Outcome == AttemptOutcomes.Completed)
            {
                return new TaskResult
                {
                    TaskId = run.TaskId, Status = TaskStatuses.Completed, Result = end.Result, AgentId = last.Value.AgentId,
                    Attempts = run.TotalAttempts, Strategy = run.Strategy.Name, Route = run.Route, LatencyMs = Elapsed(run.Started),
                    Intent = run.Intent,
                };
            }

            if (end.Outcome == AttemptOutcomes.Cancelled)
            {
                return stream?.Failure is { } failure
                    ? Finish(run, TaskStatuses.Failed, failure, last.Value.AgentId)
                    : Finish(run, TaskStatuses.Cancelled, end.Error, last.Value.AgentId);
            }

            if (stream is { ChunksForwarded: > 0 } interrupted)
            {
                // The submitter has part of this attempt's output: another agent's would not continue it.
                return Finish(run, StatusOf(end), TaskError.Of(ErrorCodes.StreamInterrupted,
                    $"Attempt {number} on '{last.Value.AgentId}' ended {end.Outcome} ({end.Error?.Code}) after {interrupted.ChunksForwarded} chunk(s) reached the submitter; a stream is not failed over once output was sent."),
                    last.Value.AgentId);
            }
        }

        var final = last!.Value;
        return Finish(run, StatusOf(final.End), final.End.Error, final.AgentId);
    }

    /// <summary>An agent reports the end of an assignment. Anything that does not match a live attempt is discarded and counted.</summary>
    public void Complete(string connectionId, TaskCompletion completion)
    {
        using var span = _telemetry.StartCompletion(connectionId, completion);
        if (completion.TaskId is null || !_inFlight.TryGetValue((completion.TaskId, completion.Attempt), out var attempt))
        {
            _telemetry.LateCompletion();
            Log.LateCompletion(_logger, completion.TaskId ?? "", completion.Attempt);
            return;
        }

        if (!string.Equals(attempt.Agent.ConnectionId, connectionId, StringComparison.Ordinal))
        {
            _telemetry.ForeignCompletion();
            Log.ForeignCompletion(_logger, completion.TaskId, connectionId);
            return;
        }

        var end = completion.Ok
            ? new AttemptEnd(AttemptOutcomes.Completed, completion.Result, null)
            : new AttemptEnd(AttemptOutcomes.Error, null, completion.Error ?? TaskError.Of(ErrorCodes.AgentError, "The agent reported an error."));
        if (!attempt.TryEnd(end))
        {
            _telemetry.LateCompletion();
            Log.LateCompletion(_logger, completion.TaskId, completion.Attempt);
        }
    }

    /// <summary>
    /// An agent sends a chunk of a streamed task's output. True when it was taken for the submitter (after waiting for
    /// room while the stream's buffer was full); false when the attempt takes no output (ended, late, another
    /// connection's, or its task's stream is over). A chunk for a task whose submitter does not stream is discarded
    /// (true). A chunk over the size limit ends the attempt with <c>chunk_too_large</c>.
    /// </summary>
    public async ValueTask<bool> PartialAsync(string connectionId, TaskPartial partial, CancellationToken cancellationToken)
    {
        if (partial.TaskId is null || !_inFlight.TryGetValue((partial.TaskId, partial.Attempt), out var attempt) || attempt.Ended.IsCompleted)
        {
            _telemetry.LateChunk();
            return false;
        }

        if (!string.Equals(attempt.Agent.ConnectionId, connectionId, StringComparison.Ordinal))
        {
            _telemetry.ForeignCompletion();
            Log.ForeignCompletion(_logger, partial.TaskId, connectionId);
            return false;
        }

        if (attempt.Stream is not { } stream || partial.Chunk is not { } chunk)
        {
            return true;
        }

        if (chunk.Length > stream.MaxChunkBytes)
        {
            if (attempt.TryEnd(new AttemptEnd(AttemptOutcomes.Error, null, TaskError.Of(ErrorCodes.ChunkTooLarge,
                    $"A chunk of {chunk.Length} bytes exceeds the limit of {stream.MaxChunkBytes}."))))
            {
                _ = SendCancelAsync(attempt.Agent, attempt.TaskId);
            }

            return false;
        }

        // Stryker disable once Boolean : the hub runs without a synchronization context
        if (!await stream.OfferAsync(attempt.Number, chunk, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        _telemetry.ChunkForwarded(attempt.Method);
        return true;
    }

    /// <summary>
    /// Sends one attempt to the agent of <paramref name="acquired"/> (its slot already taken) and waits for its end.
    /// <paramref name="cancellationToken"/> is the submitter's, or, for the attempts of a hedging round, the round's
    /// token for this attempt: cancelled there while the submitter's is not means another attempt finished first.
    /// </summary>
    private async Task<AttemptResult> RunAttemptAsync(TaskRun run, Acquisition acquired, int number, int timeoutMs, bool hedge,
        CancellationToken cancellationToken)
    {
        var agent = acquired.Agent!;
        var method = run.Method;
        var attempt = new Attempt(run.TaskId, number, method, agent, run.CancellationToken, run.Stream);
        var span = _telemetry.StartAttempt(run.TaskId, number, method, agent, hedge, run.ForPeer);
        var sentAt = _time.GetTimestamp();
        _inFlight[(run.TaskId, number)] = attempt;
        run.Stream?.BeginAttempt(number);
        AttemptEnd end;
        try
        {
            if (!agent.Track(attempt))
            {
                attempt.TryEnd(AttemptEnd.Lost);
            }

            using var timer = _time.CreateTimer(static s => ((Attempt)s!).TryEnd(AttemptEnd.TimedOut), attempt, TimeSpan.FromMilliseconds(timeoutMs), Timeout.InfiniteTimeSpan);
            using var cancel = cancellationToken.UnsafeRegister(static s => ((Attempt)s!).OnCancelled(), attempt);

            if (!attempt.Ended.IsCompleted)
            {
                try
                {
                    await _channel.SendExecuteAsync(agent, new TaskAssignment
                    {
                        TaskId = run.TaskId, Attempt = number, Method = method, Payload = run.Request.Payload, TimeoutMs = timeoutMs,
                        Stream = run.Stream is null ? null : true,
                    });
                }
                catch (Exception ex)
                {
                    Log.SendFailed(_logger, ex, run.TaskId, agent.AgentId);
                    attempt.TryEnd(new AttemptEnd(AttemptOutcomes.Error, null, TaskError.Of(ErrorCodes.SendFailed, "The assignment could not be sent to the agent.")));
                }
            }

            end = await attempt.Ended.ConfigureAwait(false);
        }
        finally
        {
            run.Stream?.EndAttempt(number); // no chunk of this attempt is taken from here on
            _inFlight.TryRemove(new KeyValuePair<(string, int), Attempt>((run.TaskId, number), attempt));
            agent.Untrack(attempt);
            agent.ReleaseSlot();
            _registry.GetPool(method)?.Waiters.WakeOne();
        }

        var ms = _time.GetElapsedTime(sentAt).TotalMilliseconds;
        switch (end.Outcome)
        {
            case AttemptOutcomes.Completed:
                agent.RecordCompletion(method, ms, ok: true, _time.GetUtcNow(), acquired.Load);
                if (run.Dispatch is { Hedged: true } dispatch)
                {
                    dispatch.Latencies.Record(ms, _time.GetTimestamp()); // the hedge delay's percentile
                }

                break;
            case AttemptOutcomes.Error:
                agent.RecordCompletion(method, ms, ok: false, _time.GetUtcNow(), acquired.Load);
                break;
            case AttemptOutcomes.Timeout:
                agent.RecordTimeout(method, ms, acquired.Load);
                break;

            // Cancelled (the submitter's choice), Superseded (another attempt won) and Disconnected (the agent's state
            // leaves with its connection) say nothing about the agent's health and are not recorded.
        }

        if (end.Outcome is AttemptOutcomes.Timeout or AttemptOutcomes.Cancelled or AttemptOutcomes.Superseded or AttemptOutcomes.Disconnected)
        {
            _ = SendCancelAsync(agent, run.TaskId);
        }

        Log.AttemptEnded(_logger, run.TaskId, number, agent.AgentId, end.Outcome);
        var pick = acquired.Scores;
        var entry = new RouteEntry
        {
            AgentId = agent.AgentId, Method = run.HasChain ? method : null, Outcome = end.Outcome, Ms = Math.Round(ms, 3), Strategy = run.Strategy.Name,
            Candidates = pick.Candidates, Pending = pick.Pending, LatencyEstimateMs = pick.LatencyEstimateMs, PredictedMs = pick.PredictedMs,
            Trust = pick.Trust, Circuit = pick.Circuit, SuccessRate = pick.SuccessRate, SlowStart = pick.SlowStart,
            Hedge = hedge ? true : null, Error = end.Error,
        };
        run.AddRoute(entry);
        _telemetry.AttemptEnded(span, run.TaskId, number, method, entry);
        return new AttemptResult(end, agent.AgentId, hedge);
    }

    private async Task SendCancelAsync(AgentState agent, string taskId)
    {
        try
        {
            await _channel.SendCancelAsync(agent, taskId);
        }
        catch (Exception ex)
        {
            Log.CancelSendFailed(_logger, ex, taskId, agent.AgentId);
        }
    }

    /// <summary>The attempt timeout: the request's, cut to the time left before the deadline (at least 1 ms).</summary>
    private int AttemptTimeoutMs(TaskRun run)
    {
        if (!run.HasDeadline)
        {
            return run.TimeoutMs;
        }

        var leftMs = (run.Deadline - _time.GetTimestamp()) * 1000.0 / _time.TimestampFrequency;
        return (int)Math.Clamp(Math.Ceiling(leftMs), 1, run.TimeoutMs);
    }

    private TaskResult Finish(TaskRun run, string status, TaskError? error, string? agentId) => new()
    {
        TaskId = run.TaskId, Status = status, Error = error, AgentId = agentId, Attempts = run.TotalAttempts,
        Strategy = run.Strategy.Name, Route = run.Route, LatencyMs = Elapsed(run.Started), Intent = run.Intent,
    };

    private static string StatusOf(AttemptEnd end) => end.Outcome == AttemptOutcomes.Timeout ? TaskStatuses.Timeout : TaskStatuses.Failed;

    private long MsToTicks(double ms) => (long)(ms * (_time.TimestampFrequency / 1000.0));

    private double Elapsed(long started) => Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 3);

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Checks the request's settings for a run on <paramref name="method"/> (its own, or a fallback): the task's settings
    /// are its own, else the capability's in the routing rules, else the hub's.
    /// </summary>
    private TaskError? Validate(TaskRequest? request, string? method, RoutingRules rules, out IRoutingStrategy? strategy, out int timeoutMs, out int maxAttempts)
    {
        strategy = null;
        timeoutMs = 0;
        maxAttempts = 0;
        if (request is null || !Names.IsValid(method))
        {
            return TaskError.Of(ErrorCodes.InvalidMethod, $"Method names match ^[a-z0-9][a-z0-9._-]{{0,127}}$; got '{Truncate(method)}'.");
        }

        timeoutMs = request.TimeoutMs ?? rules.TimeoutMsFor(method, _options);
        maxAttempts = request.MaxAttempts ?? rules.MaxAttemptsFor(method, _options);
        var strategyName = request.Strategy ?? rules.StrategyFor(method, _options);
        if (!_strategies.TryGet(strategyName, out strategy))
        {
            return TaskError.Of(ErrorCodes.UnknownStrategy, $"Unknown strategy '{Truncate(strategyName)}'; known: {string.Join(", ", _strategies.Names)}.");
        }

        if (timeoutMs is < ProtocolDefaults.MinTimeoutMs or > ProtocolDefaults.MaxTimeoutMs)
        {
            return TaskError.Of(ErrorCodes.InvalidTimeout, $"timeoutMs must be within {ProtocolDefaults.MinTimeoutMs}..{ProtocolDefaults.MaxTimeoutMs}; got {timeoutMs}.");
        }

        if (maxAttempts is < 1 or > ProtocolDefaults.MaxAttemptsLimit)
        {
            return TaskError.Of(ErrorCodes.InvalidMaxAttempts, $"maxAttempts must be within 1..{ProtocolDefaults.MaxAttemptsLimit}; got {maxAttempts}.");
        }

        if (request.DeadlineMs is < 1 or > ProtocolDefaults.MaxDeadlineMs)
        {
            return TaskError.Of(ErrorCodes.InvalidDeadline, $"deadlineMs must be within 1..{ProtocolDefaults.MaxDeadlineMs}; got {request.DeadlineMs}.");
        }

        return null;
    }

    private static TaskError? ValidateFallbacks(TaskRequest request) =>
        request.Fallbacks is { } fallbacks && RoutingRulesReader.FallbacksProblem(fallbacks, request.Method) is { } problem
            ? TaskError.Of(ErrorCodes.InvalidFallbacks, "fallbacks: " + problem)
            : null;

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "...";
}

/// <summary>How one attempt ended, on which agent, and whether it was a hedge.</summary>
internal readonly record struct AttemptResult(AttemptEnd End, string AgentId, bool Hedge, bool NodeLeft = false);
