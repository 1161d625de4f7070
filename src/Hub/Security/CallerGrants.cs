using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace Aicp.Hub.Security;

/// <summary>
/// What one connection's principal may do, read from its claims once when it connects (claims do not change for the
/// life of a WebSocket), so hub calls check booleans instead of walking claims. An API key's limits are read through
/// its entry, so a reload that changes them applies to open connections.
/// </summary>
internal sealed class CallerGrants
{
    private readonly CredentialLimits _defaults;

    private CallerGrants(string name, string? credential, string rateLimitKey, ClaimsPrincipal? user, ApiKeyEntry? key,
        DateTimeOffset? expiresAt, bool loopback, CredentialLimits defaults)
    {
        Name = name;
        Credential = credential;
        RateLimitKey = rateLimitKey;
        Key = key;
        ExpiresAt = expiresAt;
        IsLoopback = loopback;
        _defaults = defaults;
        if (user is not null)
        {
            IsAgent = HasRole(user, AicpRoles.Agent);
            IsSubmitter = HasRole(user, AicpRoles.Submitter);
            IsAdmin = HasRole(user, AicpRoles.Admin);
            IsMetrics = HasRole(user, AicpRoles.Metrics);
            AgentIds = [.. user.FindAll(AicpClaimTypes.AgentId).Select(c => c.Value)];
            Capabilities = [.. user.FindAll(AicpClaimTypes.Capability).Select(c => c.Value)];
        }
    }

    /// <summary>Grants nothing: the stand-in for a connection whose grants were never read.</summary>
    public static CallerGrants None { get; } = new("unauthenticated", null, "none", null, null, null, false, new CredentialLimits(null, null));

    /// <summary>For logs: the credential name, or <c>anonymous</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The credential its connections count against (<c>key:NAME</c> or <c>jwt:SUB</c>); null for anonymous callers,
    /// which have no per-credential connection cap.
    /// </summary>
    public string? Credential { get; }

    /// <summary>Rate-limit partition: the credential (all its connections share a bucket), else the connection.</summary>
    public string RateLimitKey { get; }

    /// <summary>The API key the caller presented; null for JWTs and open mode.</summary>
    public ApiKeyEntry? Key { get; }

    /// <summary>When the caller's credential expires (and the hub closes its connection); null: never.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Whether the caller connected from a loopback address.</summary>
    public bool IsLoopback { get; }

    public bool IsAgent { get; }

    public bool IsSubmitter { get; }

    public bool IsAdmin { get; }

    public bool IsMetrics { get; }

    /// <summary>Agent id patterns this caller may register; empty means any.</summary>
    public IReadOnlyList<string> AgentIds { get; } = [];

    /// <summary>Capability patterns this caller may register; empty means any.</summary>
    public IReadOnlyList<string> Capabilities { get; } = [];

    /// <summary>The limits in force now: the key's own (live across reloads), else the defaults.</summary>
    public CredentialLimits Limits => Key?.Limits ?? _defaults;

    /// <summary>
    /// Reads the grants of a request's principal. <paramref name="connectionId"/> partitions the rate limit of callers
    /// without a credential name (open mode); <paramref name="http"/> supplies the remote address and the credential's expiry.
    /// </summary>
    public static CallerGrants From(ClaimsPrincipal? user, string? connectionId, HttpContext? http, CredentialLimits defaults)
    {
        var loopback = http?.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote);
        if (user?.Identity is not { IsAuthenticated: true })
        {
            return new CallerGrants("unauthenticated", null, "conn:" + connectionId, null, null, null, loopback, defaults);
        }

        var expiresAt = http?.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
        var key = user.Identities.OfType<ApiKeyEntry.Identity>().FirstOrDefault()?.Key;
        if (key is not null)
        {
            return new CallerGrants(key.Name, "key:" + key.Name, "key:" + key.Name, user, key, expiresAt ?? key.ExpiresAt, loopback, defaults);
        }

        var name = user.FindFirst(AicpClaimTypes.Name)?.Value;
        return name is null
            ? new CallerGrants("anonymous", null, "conn:" + connectionId, user, null, expiresAt, loopback, defaults)
            : new CallerGrants(name, "jwt:" + name, "jwt:" + name, user, null, expiresAt, loopback, defaults);
    }

    // IsInRole follows the identity's RoleClaimType; this also accepts the literal "role" claim whatever the
    // identity's configuration, so an API key and a JWT grant roles the same way.
    private static bool HasRole(ClaimsPrincipal user, string role) => user.IsInRole(role) || user.HasClaim(AicpClaimTypes.Role, role);
}
