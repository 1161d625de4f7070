namespace Aicp.Hub.Security;

/// <summary>Security log messages, source-generated, event ids 3000-3099.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Unknown API key presented from {RemoteAddress}")]
    public static partial void UnknownKey(ILogger logger, string remoteAddress);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "{Method} from {Caller} on {ConnectionId} refused: {Reason}")]
    public static partial void Forbidden(ILogger logger, string method, string caller, string connectionId, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Submit from {Caller} on {ConnectionId} rate limited")]
    public static partial void RateLimited(ILogger logger, string caller, string connectionId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Result of {Bytes} bytes for task {TaskId} from {ConnectionId} exceeds {Limit}; closing the connection")]
    public static partial void OversizeResult(ILogger logger, int bytes, string taskId, string connectionId, int limit);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Security is off: no API keys or JWT key configured; every caller holds every role ({Reason})")]
    public static partial void OpenMode(ILogger logger, string reason);
}
