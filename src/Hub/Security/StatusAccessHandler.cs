using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>The requirement behind <see cref="AicpAuthenticationSchemes.StatusPolicy"/>.</summary>
internal sealed class StatusAccessRequirement : IAuthorizationRequirement;

/// <summary>
/// Grants <c>/v1/*</c> to the admin role, and to loopback callers when <c>StatusOpenOnLoopback</c> is set; the status
/// hub methods apply the same rule (<see cref="HubCallGate.CheckStatus"/>).
/// </summary>
internal sealed class StatusAccessHandler(IOptions<AicpSecurityOptions> options) : AuthorizationHandler<StatusAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, StatusAccessRequirement requirement)
    {
        if (HasRole(context, AicpRoles.Admin) || (options.Value.StatusOpenOnLoopback && FromLoopback(context)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    internal static bool HasRole(AuthorizationHandlerContext context, string role) =>
        context.User.HasClaim(AicpClaimTypes.Role, role) || context.User.IsInRole(role);

    internal static bool FromLoopback(AuthorizationHandlerContext context) =>
        context.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote);
}
