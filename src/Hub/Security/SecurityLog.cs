namespace Aicp.Hub.Security;

/// <summary>Security log messages, source-generated, event ids 4001-4099 (documented in docs/SECURITY.md; do not reuse).</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Authentication refused for {Request} from {RemoteAddress}: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, string request, string remoteAddress, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "{Method} from {Caller} on {ConnectionId} refused: {Reason}")]
    public static partial void Forbidden(ILogger logger, string method, string caller, string connectionId, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Submit from {Caller} on {ConnectionId} rate limited")]
    public static partial void RateLimited(ILogger logger, string caller, string connectionId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Result of {Bytes} bytes for task {TaskId} from {ConnectionId} exceeds {Limit}; closing the connection")]
    public static partial void OversizeResult(ILogger logger, int bytes, string taskId, string connectionId, int limit);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Security is off: no API keys or JWT key configured; every caller holds every role ({Reason})")]
    public static partial void OpenMode(ILogger logger, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "{Method} from {Caller} on {ConnectionId} refused, outside the credential's binding: {Reason}")]
    public static partial void BindingRefused(ILogger logger, string method, string caller, string connectionId, string reason);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "API key {Name} revoked ({Reason}); closing {Connections} connection(s)")]
    public static partial void KeyRevoked(ILogger logger, string name, string reason, int connections);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "Connection {ConnectionId} of {Caller} closed: its credential expired at {ExpiresAt}")]
    public static partial void CredentialExpired(ILogger logger, string connectionId, string caller, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Connection from {Caller} at {RemoteAddress} refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string caller, string remoteAddress, string reason);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "API keys reloaded: {Keys} in use, {Added} new or changed, {Revoked} revoked")]
    public static partial void KeysReloaded(ILogger logger, int keys, int added, int revoked);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Error, Message = "API keys not reloaded, the keys in use stay: {Errors}")]
    public static partial void KeysReloadRejected(ILogger logger, string errors);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Credentials would cross the network in clear text on {Addresses}: serve HTTPS (Kestrel certificate) or terminate TLS in front of the hub")]
    public static partial void PlainHttp(ILogger logger, string addresses);
}
