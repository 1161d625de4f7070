using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Aicp.Hub.FrontDoors;

/// <summary>
/// ASP.NET Core's authorization result handler, with one addition for front-door endpoints (those carrying
/// <see cref="FrontDoorMetadata"/>): a request refused by authorization (401, 403) is counted under the door's name.
/// The refusal itself is the hub's for every route (<see cref="Security.AccessRefusal"/>, written by the challenge or
/// forbid): the status, the <c>Aicp-Error-Code</c> header and the body <c>{"error":{code,message}}</c> (in OpenAI's error
/// shape at the OpenAI door).
/// </summary>
internal sealed class FrontDoorAuthorizationResultHandler(HubMetrics metrics) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<FrontDoorMetadata>() is { } door)
        {
            if (authorizeResult.Challenged)
            {
                metrics.FrontDoorRequest(door.Door, FrontDoorNames.Unauthorized);
            }
            else if (authorizeResult.Forbidden)
            {
                metrics.FrontDoorRequest(door.Door, TaskStatuses.Rejected);
            }
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
