using System.Security.Claims;

namespace Aicp.Hub.Security;

/// <summary>The limits that apply to one credential: its Submit rate limit and its connection cap (null: none).</summary>
internal sealed record CredentialLimits(RateLimitOptions? RateLimit, int? MaxConnections)
{
    /// <summary>The limits of a credential that sets its own (either may be null), falling back to <paramref name="defaults"/>.</summary>
    public static CredentialLimits Resolve(RateLimitOptions? rateLimit, int? maxConnections, CredentialLimits defaults) => new(
        rateLimit is null ? defaults.RateLimit : rateLimit.Enabled ? rateLimit : null,
        maxConnections ?? defaults.MaxConnections);

    /// <summary>Whether <paramref name="other"/> sets the same limits (the rate limit compared by value).</summary>
    public bool SameAs(CredentialLimits other) =>
        MaxConnections == other.MaxConnections
        && (RateLimit is null
            ? other.RateLimit is null
            : other.RateLimit is { } r && (r.TokenLimit, r.TokensPerPeriod, r.ReplenishmentPeriodMs) ==
              (RateLimit.TokenLimit, RateLimit.TokensPerPeriod, RateLimit.ReplenishmentPeriodMs));
}

/// <summary>
/// One configured API key as the hub uses it. Its grants (hash, roles, bindings, expiry) are fixed for the life of the
/// entry; its <see cref="Limits"/> may change in place when the configuration reloads. A reload that removes the key or
/// changes its hash or grants revokes the entry (<see cref="IsRevoked"/>): the connections opened with it are closed.
/// </summary>
internal sealed class ApiKeyEntry
{
    private volatile CredentialLimits _limits;
    private int _revoked;

    public ApiKeyEntry(ApiKeyOptions options, CredentialLimits defaults)
    {
        Name = options.Name;
        Hash = options.Sha256.ToLowerInvariant();
        Roles = [.. options.Roles];
        AgentIds = [.. options.AgentIds];
        Capabilities = [.. options.Capabilities];
        // Whole seconds: the authentication ticket that SignalR closes the connection by keeps no finer time, so the key
        // is refused and its connections closed from the same second.
        ExpiresAt = options.ExpiresAt is { } expires ? DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()) : null;
        _limits = CredentialLimits.Resolve(options.RateLimit, options.MaxConnections, defaults);
    }

    public string Name { get; }

    /// <summary>SHA-256 of the key, lower-case hex.</summary>
    public string Hash { get; }

    public IReadOnlyList<string> Roles { get; }

    public IReadOnlyList<string> AgentIds { get; }

    public IReadOnlyList<string> Capabilities { get; }

    /// <summary>When the key stops being accepted (whole seconds, rounded down); null: never.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Read on every Submit and connect, so a reload that changes only the limits applies to open connections at once.</summary>
    public CredentialLimits Limits
    {
        get => _limits;
        set => _limits = value;
    }

    public bool IsRevoked => Volatile.Read(ref _revoked) != 0;

    /// <summary>Marks the entry revoked (a full fence, so a connection registered before it is seen by the sweep that follows).</summary>
    public void Revoke() => Interlocked.Exchange(ref _revoked, 1);

    /// <summary>Whether <paramref name="other"/> grants exactly what this entry grants (limits aside): then a reload keeps this entry.</summary>
    public bool GrantsSameAs(ApiKeyEntry other) =>
        Name == other.Name && Hash == other.Hash && ExpiresAt == other.ExpiresAt
        && SameSet(Roles, other.Roles) && SameSet(AgentIds, other.AgentIds) && SameSet(Capabilities, other.Capabilities);

    /// <summary>The principal of a caller that presented this key.</summary>
    public ClaimsPrincipal CreatePrincipal(string scheme)
    {
        var claims = new List<Claim> { new(AicpClaimTypes.Name, Name) };
        claims.AddRange(Roles.Select(r => new Claim(AicpClaimTypes.Role, r)));
        claims.AddRange(AgentIds.Select(p => new Claim(AicpClaimTypes.AgentId, p)));
        claims.AddRange(Capabilities.Select(p => new Claim(AicpClaimTypes.Capability, p)));
        return new ClaimsPrincipal(new Identity(this, claims, scheme));
    }

    private static bool SameSet(IReadOnlyList<string> a, IReadOnlyList<string> b) => new HashSet<string>(a, StringComparer.Ordinal).SetEquals(b);

    /// <summary>The identity of a key holder; it keeps the entry so limits and revocation reach the connection.</summary>
    internal sealed class Identity(ApiKeyEntry key, IEnumerable<Claim> claims, string scheme)
        : ClaimsIdentity(claims, scheme, AicpClaimTypes.Name, AicpClaimTypes.Role)
    {
        public ApiKeyEntry Key { get; } = key;
    }
}
