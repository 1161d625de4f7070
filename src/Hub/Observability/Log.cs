using Microsoft.Extensions.Logging;

namespace Aicp.Hub.Observability;

/// <summary>The hub's log messages, source-generated, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Agent {AgentId} registered on {ConnectionId}: {Capabilities} (max concurrency {MaxConcurrency})")]
    public static partial void AgentRegistered(ILogger logger, string agentId, string connectionId, string capabilities, int maxConcurrency);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Agent {AgentId} on {OldConnectionId} replaced by {ConnectionId}")]
    public static partial void AgentReplaced(ILogger logger, string agentId, string oldConnectionId, string connectionId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Agent {AgentId} left ({ConnectionId})")]
    public static partial void AgentLeft(ILogger logger, string agentId, string connectionId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Agent {AgentId} is draining")]
    public static partial void AgentDraining(ILogger logger, string agentId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Registration refused on {ConnectionId}: {Code} {Reason}")]
    public static partial void RegistrationRefused(ILogger logger, string connectionId, string code, string reason);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Circuit of agent {AgentId} opened (was {From}) for {BreakSeconds} s; re-opened {Reopens} time(s) since it last closed")]
    public static partial void CircuitOpened(ILogger logger, string agentId, string from, double breakSeconds, int reopens);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Circuit of agent {AgentId} half-open: one probe task goes through")]
    public static partial void CircuitHalfOpened(ILogger logger, string agentId);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Circuit of agent {AgentId} closed: the probe succeeded")]
    public static partial void CircuitClosed(ILogger logger, string agentId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Task {TaskId} attempt {Attempt} on {AgentId} ended {Outcome}")]
    public static partial void AttemptEnded(ILogger logger, string taskId, int attempt, string agentId, string outcome);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Sending task {TaskId} to agent {AgentId} failed")]
    public static partial void SendFailed(ILogger logger, Exception exception, string taskId, string agentId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Late completion for task {TaskId} attempt {Attempt} discarded")]
    public static partial void LateCompletion(ILogger logger, string taskId, int attempt);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Completion for task {TaskId} from {ConnectionId}, which was not assigned it, ignored")]
    public static partial void ForeignCompletion(ILogger logger, string taskId, string connectionId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Cancel for task {TaskId} to agent {AgentId} could not be sent")]
    public static partial void CancelSendFailed(ILogger logger, Exception exception, string taskId, string agentId);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "Streamed task {TaskId} failed in the hub")]
    public static partial void StreamFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Debug, Message = "Task {TaskId} attempt {Attempt} refused by agent {AgentId} on node {Node} ({Code}); picking again")]
    public static partial void RemoteRefused(ILogger logger, string taskId, int attempt, string agentId, string node, string code);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Debug, Message = "Task {TaskId} fell back from {From} to {To} ({Reason})")]
    public static partial void FellBack(ILogger logger, string taskId, string from, string to, string reason);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Routing rules loaded from {Path}: defaults for {Capabilities} capability(ies)")]
    public static partial void RoutingRulesLoaded(ILogger logger, string path, int capabilities);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Routing rules in {Path} refused ({Count} problem(s)); the rules in use stay: {Problems}")]
    public static partial void RoutingRulesRejected(ILogger logger, string path, int count, string problems);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Exporting traces and metrics over OTLP to {Endpoint} ({Protocol})")]
    public static partial void OtlpExportStarted(ILogger logger, string endpoint, string protocol);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Task {TaskId} for {Method} finished {Status} after {Attempts} attempt(s) in {LatencyMs} ms")]
    public static partial void TaskNotCompleted(ILogger logger, string taskId, string method, string status, int attempts, double latencyMs);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Task {TaskId} for {Method} completed on {AgentId} after {Attempts} attempt(s) in {LatencyMs} ms")]
    public static partial void TaskCompleted(ILogger logger, string taskId, string method, string agentId, int attempts, double latencyMs);
}
