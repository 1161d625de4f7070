namespace Aicp.Hub.Security;

/// <summary>
/// What <c>aicp_security_events_total{kind}</c> counts: a closed set, so the label cannot grow. Each kind is logged
/// with its own event id (<see cref="SecurityLog"/>; foreign completions by the dispatcher, event id 2004).
/// </summary>
internal enum SecurityEventKind
{
    /// <summary>A protected route or the hub endpoint refused a request without a valid credential (no, unknown, expired or invalid key or JWT): HTTP 401.</summary>
    AuthenticationFailed,

    /// <summary>A call or route refused because the caller lacks the role (a hub method, or HTTP 403).</summary>
    RoleRefused,

    /// <summary>A Register refused because the agent id or a capability is outside the credential's binding: an attempt to take another fleet's id or work.</summary>
    BindingRefused,

    /// <summary>A completion from a connection that was not assigned the attempt.</summary>
    ForeignCompletion,

    /// <summary>An API key removed or changed by a configuration reload (its connections are closed).</summary>
    KeyRevoked,

    /// <summary>A connection that ended because its JWT or API key expired.</summary>
    CredentialExpired,

    /// <summary>A connection refused because its credential or the hub had as many open as allowed.</summary>
    ConnectionRefused,
}

/// <summary>The label values of <see cref="SecurityEventKind"/>.</summary>
internal static class SecurityEventKinds
{
    /// <summary>Label value per kind, indexed by the enum's value.</summary>
    public static readonly string[] Labels =
    [
        "authentication_failed", "role_refused", "binding_refused", "foreign_completion", "key_revoked", "credential_expired", "connection_refused",
    ];

    public static string Label(this SecurityEventKind kind) => Labels[(int)kind];
}
