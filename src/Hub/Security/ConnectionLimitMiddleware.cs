using System.Text.Json;
using Aicp.Hub.Hubs;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Security;

/// <summary>
/// Applies <see cref="ConnectionLimiter"/> to WebSocket requests for the hub endpoint, after authentication and
/// authorization (so the caller's credential is known) and before SignalR accepts the connection. A WebSocket request
/// lasts as long as its connection, so the count is released when the request ends. A refusal is HTTP 429 (the
/// credential's cap) or 503 (the hub's), with the code <c>connection_limit</c> in the <c>Aicp-Error-Code</c> header
/// and in a JSON body <c>{"error":{"code","message"}}</c>; the hub endpoint accepts WebSockets only, so no other
/// transport goes around the count.
/// </summary>
internal sealed class ConnectionLimitMiddleware(RequestDelegate next, ConnectionLimiter limiter, ApiKeyStore keys, SecurityEvents events)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest || context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>()?.HubType != typeof(AicpHub))
        {
            await next(context);
            return;
        }

        var caller = CallerGrants.From(context.User, null, context, keys.DefaultLimits);
        var cap = caller.Limits.MaxConnections;
        var verdict = limiter.TryAcquire(caller.Credential, cap);
        if (verdict != ConnectionLimiter.Verdict.Accepted)
        {
            var message = verdict == ConnectionLimiter.Verdict.HubFull
                ? $"The hub has {limiter.Max} connections open, its limit; retry later."
                : $"Credential '{caller.Name}' has {cap} connections open, its limit; close one or raise MaxConnections.";
            events.ConnectionRefused(caller.Name, context.Connection.RemoteIpAddress?.ToString() ?? "", message);
            context.Response.StatusCode = verdict == ConnectionLimiter.Verdict.HubFull
                ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status429TooManyRequests;
            context.Response.Headers[ProtocolDefaults.ErrorCodeHeader] = ErrorCodes.ConnectionLimit;
            await context.Response.WriteAsJsonAsync(new { error = TaskError.Of(ErrorCodes.ConnectionLimit, message) }, Json, context.RequestAborted);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            limiter.Release(caller.Credential);
        }
    }
}
