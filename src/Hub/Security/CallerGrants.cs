using System.Security.Claims;

namespace Aicp.Hub.Security;

/// <summary>
/// What one connection's principal may do, read from its claims once when it connects (claims do not
/// change for the life of a WebSocket), so hub calls check booleans instead of walking claims.
/// </summary>
internal sealed class CallerGrants
{
    private CallerGrants(string name, string rateLimitKey, bool agent, bool submitter, bool admin,
        IReadOnlyList<string> agentIds, IReadOnlyList<string> capabilities)
    {
        Name = name;
        RateLimitKey = rateLimitKey;
        IsAgent = agent;
        IsSubmitter = submitter;
        IsAdmin = admin;
        AgentIds = agentIds;
        Capabilities = capabilities;
    }

    /// <summary>For logs: the credential name, or <c>anonymous</c>.</summary>
    public string Name { get; }

    /// <summary>Rate-limit partition: the credential (all its connections share a bucket), else the connection.</summary>
    public string RateLimitKey { get; }

    public bool IsAgent { get; }

    public bool IsSubmitter { get; }

    public bool IsAdmin { get; }

    /// <summary>Agent id patterns this caller may register; empty means any.</summary>
    public IReadOnlyList<string> AgentIds { get; }

    /// <summary>Capability patterns this caller may register; empty means any.</summary>
    public IReadOnlyList<string> Capabilities { get; }

    public static CallerGrants From(ClaimsPrincipal? user, string connectionId)
    {
        if (user?.Identity is not { IsAuthenticated: true })
        {
            return new CallerGrants("unauthenticated", "conn:" + connectionId, false, false, false, [], []);
        }

        var name = user.FindFirst(AicpClaimTypes.Name)?.Value;
        return new CallerGrants(
            name ?? "anonymous",
            name is null ? "conn:" + connectionId : "id:" + name,
            user.IsInRole(AicpRoles.Agent) || HasRole(user, AicpRoles.Agent),
            user.IsInRole(AicpRoles.Submitter) || HasRole(user, AicpRoles.Submitter),
            user.IsInRole(AicpRoles.Admin) || HasRole(user, AicpRoles.Admin),
            [.. user.FindAll(AicpClaimTypes.AgentId).Select(c => c.Value)],
            [.. user.FindAll(AicpClaimTypes.Capability).Select(c => c.Value)]);
    }

    // IsInRole follows the identity's RoleClaimType; this also accepts the literal "role" claim whatever the
    // identity's configuration, so an API key and a JWT grant roles the same way.
    private static bool HasRole(ClaimsPrincipal user, string role) => user.HasClaim(AicpClaimTypes.Role, role);
}
