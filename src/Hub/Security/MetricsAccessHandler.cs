using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>The requirement behind <see cref="AicpAuthenticationSchemes.MetricsPolicy"/>.</summary>
internal sealed class MetricsAccessRequirement : IAuthorizationRequirement;

/// <summary>
/// Grants <c>/metrics</c> as <see cref="AicpSecurityOptions.MetricsAccess"/> says: to the metrics or admin role, also to
/// loopback callers (<see cref="MetricsAccess.Loopback"/>), or to anyone (<see cref="MetricsAccess.Open"/>). In open mode
/// every caller holds both roles.
/// </summary>
internal sealed class MetricsAccessHandler(IOptions<AicpSecurityOptions> options) : AuthorizationHandler<MetricsAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, MetricsAccessRequirement requirement)
    {
        var access = options.Value.MetricsAccess;
        if (access == MetricsAccess.Open
            || StatusAccessHandler.HasRole(context, AicpRoles.Metrics) || StatusAccessHandler.HasRole(context, AicpRoles.Admin)
            || (access == MetricsAccess.Loopback && StatusAccessHandler.FromLoopback(context)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
