using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>The requirement behind <see cref="AicpAuthenticationSchemes.StatusPolicy"/>.</summary>
internal sealed class StatusAccessRequirement : IAuthorizationRequirement;

/// <summary>Grants <c>/v1/*</c> to the admin role, and to loopback callers when <c>StatusOpenOnLoopback</c> is set.</summary>
internal sealed class StatusAccessHandler(IOptions<AicpSecurityOptions> options) : AuthorizationHandler<StatusAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, StatusAccessRequirement requirement)
    {
        if (context.User.HasClaim(AicpClaimTypes.Role, AicpRoles.Admin) || context.User.IsInRole(AicpRoles.Admin))
        {
            context.Succeed(requirement);
        }
        else if (options.Value.StatusOpenOnLoopback && context.Resource is HttpContext http
            && http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
