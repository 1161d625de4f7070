using System.Net;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// The hub answered the WebSocket upgrade with an HTTP error instead of accepting the connection: 401 (no or an invalid
/// credential), 403 (the credential may not connect), 429 or 503 with <see cref="ErrorCode"/> <c>connection_limit</c>
/// (the credential's or the hub's connection cap). A refusal that connecting again with the same credential cannot change
/// (401, 403: <see cref="IsTransient"/> false) ends the first connect (<see cref="Agent.AicpAgent.StartAsync"/>,
/// <see cref="Client.AicpTaskClient.ConnectAsync"/> and the submits waiting for it throw it); others are retried with the
/// reconnect delays. A connection that was up before retries every refusal after it was lost (a revoked key may be
/// restored, a hub restarted with other keys may be fixed).
/// </summary>
public sealed class AicpConnectionRefusedException : Exception
{
    /// <summary>A refusal with the hub's HTTP status and error code.</summary>
    public AicpConnectionRefusedException(HttpStatusCode statusCode, string? errorCode, Exception? inner)
        : base($"The hub refused the connection: HTTP {(int)statusCode}" + (errorCode is null ? "." : $", {errorCode}."), inner)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>The HTTP status of the refusal.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>
    /// The hub's error code (<c>Aicp-Error-Code</c> header): <c>unauthorized</c> (401), <c>forbidden</c> (403) or
    /// <c>connection_limit</c> (429, 503); null when it sent none.
    /// </summary>
    public string? ErrorCode { get; }

    /// <summary>
    /// False for 401 (no credential, or one the hub does not accept: unknown, revoked or expired) and 403 (a credential
    /// without a role that may connect); true for any other status (a connection cap, a hub in trouble).
    /// </summary>
    public bool IsTransient => StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
}
