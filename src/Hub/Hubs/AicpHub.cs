using System.Runtime.CompilerServices;
using Aicp.Hub.Dashboard;
using Aicp.Hub.Dispatch;
using Aicp.Hub.FrontDoors;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Hubs;

/// <summary>
/// The SignalR endpoint at <c>/aicp</c>. Thin: validates what arrives and hands it to the registry or the
/// dispatcher. Agents call Register, Complete, Drain and ReportLoad; submitters call Submit; admins read status
/// (AicpHub.Status.cs). Role, binding, size and rate checks run in <see cref="HubCallGate"/> before anything reaches
/// the registry, the dispatcher or the status queries.
/// </summary>
internal sealed partial class AicpHub : Microsoft.AspNetCore.SignalR.Hub
{
    private readonly AgentRegistry _registry;
    private readonly TaskDispatcher _dispatcher;
    private readonly HubCallGate _gate;
    private readonly ILogger<AicpHub> _logger;
    private readonly TimeProvider _time;
    private readonly HubMetrics _metrics;
    private readonly StatusFeed _statusFeed;

    public AicpHub(AgentRegistry registry, TaskDispatcher dispatcher, HubCallGate gate, StatusFeed statusFeed, TimeProvider time, HubMetrics metrics,
        ILogger<AicpHub> logger)
    {
        _metrics = metrics;
        _statusFeed = statusFeed;
        _time = time;
        _registry = registry;
        _dispatcher = dispatcher;
        _gate = gate;
        _logger = logger;
    }

    /// <summary>This connection's grants, read from its principal when it connected (<see cref="AicpHubLifetimeManager"/>).</summary>
    private CallerGrants Caller => Context.Items.TryGetValue(typeof(CallerGrants), out var grants) && grants is CallerGrants g
        ? g
        : CallerGrants.None;

    /// <summary>Registers this connection as an agent, or updates its registration.</summary>
    public RegistrationAck Register(AgentRegistration registration)
    {
        var error = RegistrationValidator.Validate(registration, out var capabilities);
        if (error is not null)
        {
            Log.RegistrationRefused(_logger, Context.ConnectionId, error.Code, error.Message);
            return new RegistrationAck { Accepted = false, AgentId = registration?.AgentId ?? "", Error = error };
        }

        var forbidden = _gate.CheckRegister(Caller, Context.ConnectionId, registration.AgentId, capabilities);
        if (forbidden is not null)
        {
            return new RegistrationAck { Accepted = false, AgentId = registration.AgentId, Error = forbidden };
        }

        var metadata = registration.Metadata ?? new Dictionary<string, string>();
        var (agent, replaced) = _registry.Register(Context.ConnectionId, registration.AgentId, capabilities, registration.MaxConcurrency, metadata);
        if (replaced is not null)
        {
            Log.AgentReplaced(_logger, replaced.AgentId, replaced.ConnectionId, Context.ConnectionId);
        }

        Log.AgentRegistered(_logger, agent.AgentId, Context.ConnectionId, string.Join(",", capabilities), agent.MaxConcurrency);
        return new RegistrationAck
        {
            Accepted = true, AgentId = agent.AgentId, Capabilities = capabilities, MaxConcurrency = agent.MaxConcurrency,
            Replaced = replaced is not null && replaced.AgentId == agent.AgentId,
        };
    }

    /// <summary>Reports the end of an assignment this connection received.</summary>
    public void Complete(TaskCompletion completion)
    {
        if (completion is null)
        {
            return;
        }

        switch (_gate.CheckComplete(Caller, Context.ConnectionId, completion))
        {
            case HubCallGate.CompleteVerdict.Accept:
                _dispatcher.Complete(Context.ConnectionId, completion);
                break;
            case HubCallGate.CompleteVerdict.Abort:
                Context.Abort(); // OnDisconnectedAsync removes the agent; its attempts fail over
                break;
        }
    }

    /// <summary>
    /// One chunk of a streamed task's output from the agent running it; answered once the chunk was taken for the
    /// submitter (or refused), so an agent that awaits each answer feels a slow submitter's back-pressure.
    /// </summary>
    public async Task<bool> Partial(TaskPartial partial)
    {
        if (partial is null || !_gate.CheckAgentCall(Caller, Context.ConnectionId, HubMethods.Partial))
        {
            return false;
        }

        return await _dispatcher.PartialAsync(Context.ConnectionId, partial, Context.ConnectionAborted);
    }

    /// <summary>Stops new assignments to this connection's agent; in-flight ones finish.</summary>
    public bool Drain()
    {
        if (!_gate.CheckAgentCall(Caller, Context.ConnectionId, HubMethods.Drain))
        {
            return false;
        }

        var agent = _registry.Drain(Context.ConnectionId);
        if (agent is not null)
        {
            Log.AgentDraining(_logger, agent.AgentId);
        }

        return agent is not null;
    }

    /// <summary>Records the agent's own view of its load; false when this connection is not a registered agent.</summary>
    public bool ReportLoad(AgentLoadReport report)
    {
        var agent = _registry.GetByConnection(Context.ConnectionId);
        if (agent is null || report is null || report.QueueDepth < 0 || report.FreeSlots < 0 || report.Gpus is { Count: > 64 })
        {
            return false;
        }

        agent.RecordLoad(report, _time.GetUtcNow());
        return true;
    }

    /// <summary>Runs a task and returns its one final result. Many may run at once on one connection.</summary>
    public async Task<TaskResult> Submit(TaskRequest request)
    {
        var result = _gate.CheckSubmit(Caller, Context.ConnectionId, request) ?? await _dispatcher.SubmitAsync(request, Context.ConnectionAborted);
        _metrics.FrontDoorRequest(FrontDoorNames.SignalR, result.Status);
        return result;
    }

    /// <summary>
    /// Runs a task and streams its output: the chunks its agent sends, then one item with the final result. Closing the
    /// stream (or the connection) cancels the task.
    /// </summary>
    public async IAsyncEnumerable<TaskStreamItem> SubmitStream(TaskRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_gate.CheckSubmit(Caller, Context.ConnectionId, request) is { } refused)
        {
            _metrics.FrontDoorRequest(FrontDoorNames.SignalRStream, refused.Status);
            yield return new TaskStreamItem { TaskId = refused.TaskId, Result = refused };
            yield break;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Context.ConnectionAborted);
        var stream = _dispatcher.SubmitStream(request, cancel.Token);
        var metrics = _metrics;
        _ = stream.Finished.ContinueWith(t => metrics.FrontDoorRequest(FrontDoorNames.SignalRStream, t.Result.Status),
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await foreach (var item in stream.ReadAllAsync(cancellationToken))
        {
            yield return item;
        }

        await stream.Finished; // the task's own cancellation was unregistered with its result: the source may go
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        _statusFeed.Unsubscribe(Context.ConnectionId);
        var agent = _registry.RemoveConnection(Context.ConnectionId);
        if (agent is not null)
        {
            Log.AgentLeft(_logger, agent.AgentId, Context.ConnectionId);
        }

        return Task.CompletedTask;
    }
}
