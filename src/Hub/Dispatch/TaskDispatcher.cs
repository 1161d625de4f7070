using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// The task lifecycle: validate, pick, dispatch, wait for the attempt to end (completion, error, timeout,
/// agent loss or cancel), fail over to an untried agent, and produce exactly one final result.
/// Each attempt takes an agent slot before it is sent and gives it back in one <c>finally</c>, so every
/// pending count goes up and down exactly once per attempt.
/// </summary>
internal sealed partial class TaskDispatcher
{
    private const int PickRetries = 4;

    private readonly ConcurrentDictionary<string, Attempt> _inFlight = new(StringComparer.Ordinal);
    private readonly AgentRegistry _registry;
    private readonly RoutingStrategyCatalog _strategies;
    private readonly IAgentChannel _channel;
    private readonly TaskTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly IRandomSource _random;
    private readonly ILogger _logger;
    private readonly AicpHubOptions _options;

    public TaskDispatcher(AgentRegistry registry, RoutingStrategyCatalog strategies, IAgentChannel channel,
        TimeProvider time, IRandomSource random, IOptions<AicpHubOptions> options,
        ILogger<TaskDispatcher> logger, TaskTelemetry telemetry)
    {
        _telemetry = telemetry;
        _registry = registry;
        _strategies = strategies;
        _channel = channel;
        _time = time;
        _random = random;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Attempts currently dispatched and not yet ended.</summary>
    public int InFlightCount => _inFlight.Count;

    /// <summary>Runs a task to its one final result. Never throws for a bad request or a failing agent.</summary>
    public async Task<TaskResult> SubmitAsync(TaskRequest request, CancellationToken cancellationToken)
    {
        using var observation = _telemetry.StartTask(request);
        var result = await RunTaskAsync(request, cancellationToken);
        observation.Finished(result);
        return result;
    }

    private async Task<TaskResult> RunTaskAsync(TaskRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var taskId = Guid.NewGuid().ToString("N");

        var error = Validate(request, out var strategy, out var timeoutMs, out var maxAttempts);
        if (error is not null)
        {
            return new TaskResult
            {
                TaskId = taskId, Status = TaskStatuses.Rejected, Error = error,
                Strategy = request?.Strategy ?? _options.StrategyFor(request?.Method ?? ""),
            };
        }

        var route = new List<RouteEntry>(maxAttempts);
        var tried = new string[maxAttempts];
        AttemptEnd? last = null;
        AgentState? lastAgent = null;

        for (var attemptNo = 1; attemptNo <= maxAttempts; attemptNo++)
        {
            var acquired = await AcquireAsync(request.Method, strategy!, tried.AsMemory(0, attemptNo - 1), timeoutMs, cancellationToken);
            if (acquired.Agent is not { } agent)
            {
                if (acquired.Status == TaskStatuses.NoAgents && last is not null)
                {
                    break; // every agent was tried: the last attempt's outcome decides
                }

                return new TaskResult
                {
                    TaskId = taskId, Status = acquired.Status, Error = acquired.Error, Attempts = attemptNo - 1,
                    Strategy = strategy!.Name, Route = route, LatencyMs = Elapsed(started), AgentId = lastAgent?.AgentId,
                };
            }

            tried[attemptNo - 1] = agent.AgentId;
            var end = await RunAttemptAsync(taskId, attemptNo, request.Method, request.Payload, timeoutMs, acquired, strategy!.Name, route, cancellationToken);
            last = end;
            lastAgent = agent;

            if (end.Outcome == AttemptOutcomes.Completed)
            {
                return new TaskResult
                {
                    TaskId = taskId, Status = TaskStatuses.Completed, Result = end.Result, AgentId = agent.AgentId,
                    Attempts = attemptNo, Strategy = strategy.Name, Route = route, LatencyMs = Elapsed(started),
                };
            }

            if (end.Outcome == AttemptOutcomes.Cancelled)
            {
                return new TaskResult
                {
                    TaskId = taskId, Status = TaskStatuses.Cancelled, Error = end.Error, AgentId = agent.AgentId,
                    Attempts = attemptNo, Strategy = strategy.Name, Route = route, LatencyMs = Elapsed(started),
                };
            }
        }

        var final = last!.Value;
        return new TaskResult
        {
            TaskId = taskId,
            Status = final.Outcome == AttemptOutcomes.Timeout ? TaskStatuses.Timeout : TaskStatuses.Failed,
            Error = final.Error, AgentId = lastAgent?.AgentId, Attempts = route.Count, Strategy = strategy!.Name,
            Route = route, LatencyMs = Elapsed(started),
        };
    }

    /// <summary>An agent reports the end of an assignment. Anything that does not match a live attempt is discarded and counted.</summary>
    public void Complete(string connectionId, TaskCompletion completion)
    {
        using var span = _telemetry.StartCompletion(connectionId, completion);
        if (completion.TaskId is null || !_inFlight.TryGetValue(completion.TaskId, out var attempt) || attempt.Number != completion.Attempt)
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

    private async Task<AttemptEnd> RunAttemptAsync(string taskId, int number, string method, TaskPayload? payload, int timeoutMs,
        Acquisition acquired, string strategyName, List<RouteEntry> route, CancellationToken cancellationToken)
    {
        var agent = acquired.Agent!;
        var pickEntry = acquired.Entry;
        var attempt = new Attempt(taskId, number, method, agent);
        var span = _telemetry.StartAttempt(taskId, number, method, agent);
        var sentAt = _time.GetTimestamp();
        _inFlight[taskId] = attempt;
        AttemptEnd end;
        try
        {
            if (!agent.Track(attempt))
            {
                attempt.TryEnd(AttemptEnd.Lost);
            }

            using var timer = _time.CreateTimer(static s => ((Attempt)s!).TryEnd(AttemptEnd.TimedOut), attempt, TimeSpan.FromMilliseconds(timeoutMs), Timeout.InfiniteTimeSpan);
            using var cancel = cancellationToken.UnsafeRegister(static s => ((Attempt)s!).TryEnd(AttemptEnd.Cancelled), attempt);

            if (!attempt.Ended.IsCompleted)
            {
                try
                {
                    await _channel.SendExecuteAsync(agent, new TaskAssignment
                    {
                        TaskId = taskId, Attempt = number, Method = method, Payload = payload, TimeoutMs = timeoutMs,
                    });
                }
                catch (Exception ex)
                {
                    Log.SendFailed(_logger, ex, taskId, agent.AgentId);
                    attempt.TryEnd(new AttemptEnd(AttemptOutcomes.Error, null, TaskError.Of(ErrorCodes.SendFailed, "The assignment could not be sent to the agent.")));
                }
            }

            end = await attempt.Ended.ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Attempt>(taskId, attempt));
            agent.Untrack(attempt);
            agent.ReleaseSlot();
            _registry.GetPool(method)?.Waiters.WakeOne();
        }

        var ms = _time.GetElapsedTime(sentAt).TotalMilliseconds;
        switch (end.Outcome)
        {
            case AttemptOutcomes.Completed:
                agent.RecordCompletion(method, ms, ok: true, _time.GetUtcNow(), acquired.Load);
                break;
            case AttemptOutcomes.Error:
                agent.RecordCompletion(method, ms, ok: false, _time.GetUtcNow(), acquired.Load);
                break;
            case AttemptOutcomes.Timeout:
                agent.RecordTimeout(method, ms, acquired.Load);
                break;

            // Cancelled (the submitter's choice) and Disconnected (the agent's state leaves with its
            // connection) say nothing about the agent's health and are not recorded.
        }

        if (end.Outcome is AttemptOutcomes.Timeout or AttemptOutcomes.Cancelled or AttemptOutcomes.Disconnected)
        {
            _ = SendCancelAsync(agent, taskId);
        }

        Log.AttemptEnded(_logger, taskId, number, agent.AgentId, end.Outcome);
        route.Add(new RouteEntry
        {
            AgentId = agent.AgentId, Outcome = end.Outcome, Ms = Math.Round(ms, 3), Strategy = strategyName,
            Candidates = pickEntry.Candidates, Pending = pickEntry.Pending, LatencyEstimateMs = pickEntry.LatencyEstimateMs,
            PredictedMs = pickEntry.PredictedMs,
            Trust = pickEntry.Trust, Circuit = pickEntry.Circuit, SuccessRate = pickEntry.SuccessRate, SlowStart = pickEntry.SlowStart,
            Error = end.Error,
        });
        _telemetry.AttemptEnded(span, taskId, number, method, route[^1]);
        return end;
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

    private double Elapsed(long started) => Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 3);

    private TaskError? Validate(TaskRequest request, out IRoutingStrategy? strategy, out int timeoutMs, out int maxAttempts)
    {
        strategy = null;
        timeoutMs = request?.TimeoutMs ?? _options.DefaultTimeoutMs;
        maxAttempts = request?.MaxAttempts ?? _options.DefaultMaxAttempts;
        if (request is null || !Names.IsValid(request.Method))
        {
            return TaskError.Of(ErrorCodes.InvalidMethod, $"Method names match ^[a-z0-9][a-z0-9._-]{{0,127}}$; got '{Truncate(request?.Method)}'.");
        }

        var strategyName = request.Strategy ?? _options.StrategyFor(request.Method);
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

        return null;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "...";
}
