using System.Net;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// The hub answered the WebSocket upgrade with an HTTP error instead of accepting the connection: 401 (no or an invalid
/// credential), 403 (the credential may not connect), 429 or 503 with <see cref="ErrorCode"/> <c>connection_limit</c>
/// (the credential's or the hub's connection cap). The client retries with its reconnect delays until stopped.
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

    /// <summary>The hub's error code (<c>Aicp-Error-Code</c> header), e.g. <c>connection_limit</c>; null when it sent none.</summary>
    public string? ErrorCode { get; }
}
