using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Aicp.Hub.FrontDoors;

/// <summary>
/// ASP.NET Core's authorization result handler, with one addition for front-door endpoints (those carrying
/// <see cref="FrontDoorMetadata"/>): after the usual challenge or forbid (which set 401 / 403 and raise the security
/// event), the refusal is written as a body in the door's own error shape (the hub's <c>{"error":{code,message}}</c>, or
/// OpenAI's) and counted. Every other endpoint is handled exactly as by the default handler.
/// </summary>
internal sealed class FrontDoorAuthorizationResultHandler(HubMetrics metrics) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var door = context.GetEndpoint()?.Metadata.GetMetadata<FrontDoorMetadata>();
        if (door is null || authorizeResult.Succeeded || !(authorizeResult.Challenged || authorizeResult.Forbidden))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        if (authorizeResult.Challenged)
        {
            foreach (var scheme in policy.AuthenticationSchemes)
            {
                await context.ChallengeAsync(scheme);
            }

            metrics.FrontDoorRequest(door.Door, FrontDoorNames.Unauthorized);
            await door.WriteError(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
                "A valid API key or JWT is required: send it as 'Authorization: Bearer <key>'.");
            return;
        }

        foreach (var scheme in policy.AuthenticationSchemes)
        {
            await context.ForbidAsync(scheme);
        }

        metrics.FrontDoorRequest(door.Door, TaskStatuses.Rejected);
        await door.WriteError(context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "This credential's roles do not allow this call.");
    }
}
