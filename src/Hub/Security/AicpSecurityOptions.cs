using Aicp.Protocol;

namespace Aicp.Hub.Security;

/// <summary>
/// Who may connect and what they may do, and the per-caller limits; bound from <c>Aicp:Security</c> and
/// validated at start-up. With no API key and no JWT key configured the hub runs open (every caller holds
/// every role); that is allowed on a loopback address, and elsewhere only with <see cref="AllowAnonymous"/>.
/// The API keys (<see cref="ApiKeys"/>, or the <see cref="KeysFile"/>) are read again when they change
/// (<see cref="ApiKeyStore"/>); every other setting is read once, at start-up.
/// </summary>
public sealed class AicpSecurityOptions
{
    public const string SectionName = "Aicp:Security";

    /// <summary>
    /// Lets a hub with no credentials configured listen on a non-loopback address. Has no effect once keys
    /// are configured (then every caller authenticates). The default value is false.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Accepted API keys, stored as SHA-256 hashes. Reloaded without a restart when the configuration reloads.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>
    /// A JSON file holding the API keys instead of <see cref="ApiKeys"/>: <c>{"ApiKeys":[{"Name":...,"Sha256":...},...]}</c>,
    /// typically a mounted secret. The hub watches it; a change takes effect within seconds, and content that does not
    /// parse or validate is rejected (logged) while the keys in use stay. Setting it turns security on even while it
    /// lists no key. The default value is null (none).
    /// </summary>
    public string? KeysFile { get; set; }

    /// <summary>JWT bearer validation; off unless <see cref="JwtOptions.SigningKey"/> is set.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// When true, <c>/v1/*</c> and the status hub methods answer loopback callers without the admin role; other
    /// callers still need <c>admin</c>. The default value is false.
    /// </summary>
    public bool StatusOpenOnLoopback { get; set; }

    /// <summary>Who may read <c>/metrics</c> when credentials are configured. The default value is <see cref="MetricsAccess.Credential"/>.</summary>
    public MetricsAccess MetricsAccess { get; set; } = MetricsAccess.Credential;

    /// <summary>Largest task payload, measured on its JSON text. The default value is 1 MiB (1,048,576).</summary>
    public int MaxPayloadBytes { get; set; } = ProtocolDefaults.MaxPayloadBytes;

    /// <summary>Largest result an agent may return, measured on its JSON text; a larger one closes that agent's connection. The default value is 1 MiB.</summary>
    public int MaxResultBytes { get; set; } = ProtocolDefaults.MaxPayloadBytes;

    /// <summary>
    /// The Submit rate limit of callers whose API key sets none (keys without <see cref="ApiKeyOptions.RateLimit"/>,
    /// JWT subjects, and each connection in open mode). The default value is null: no limit.
    /// </summary>
    public RateLimitOptions? RateLimit { get; set; }

    /// <summary>Most connections open at once to the hub endpoint, over all callers. The default value is null: no limit.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>
    /// Most connections open at once per credential (API key or JWT subject) whose key sets no
    /// <see cref="ApiKeyOptions.MaxConnections"/>. The default value is null: no limit.
    /// </summary>
    public int? MaxConnectionsPerCredential { get; set; }

    /// <summary>Whether any credential is configured (otherwise the hub runs open).</summary>
    public bool HasCredentials => ApiKeys.Count > 0 || !string.IsNullOrEmpty(KeysFile) || Jwt.IsConfigured;
}

/// <summary>Who may read <c>/metrics</c> when credentials are configured (in open mode everyone may).</summary>
public enum MetricsAccess
{
    /// <summary>A credential with the <c>metrics</c> or <c>admin</c> role.</summary>
    Credential,

    /// <summary>Loopback callers without a credential; others as <see cref="Credential"/>.</summary>
    Loopback,

    /// <summary>Anyone (the endpoint carries agent ids and capability names: keep it on a private network).</summary>
    Open,
}

/// <summary>One API key: its hash, roles, what an agent holding it may register, when it ends, and its limits.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A label for logs, limits and revocation, e.g. <c>gpu-fleet</c>. Must be unique.</summary>
    public string Name { get; set; } = "";

    /// <summary>SHA-256 of the key's UTF-8 bytes as 64 hex digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Any of <c>agent</c>, <c>submitter</c>, <c>admin</c>, <c>metrics</c>.</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Agent id patterns (<c>*</c> any run, <c>?</c> one character) this key may register. Empty: any.</summary>
    public List<string> AgentIds { get; set; } = [];

    /// <summary>Capability patterns this key may register. Empty: any.</summary>
    public List<string> Capabilities { get; set; } = [];

    /// <summary>
    /// When the key stops being accepted; its open connections are closed then (ISO 8601, e.g.
    /// <c>2027-01-31T00:00:00Z</c>; whole seconds, a fraction is dropped). The default value is null: it does not expire.
    /// </summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>This key's Submit rate limit, shared by all its connections. The default value is null: <see cref="AicpSecurityOptions.RateLimit"/>.</summary>
    public RateLimitOptions? RateLimit { get; set; }

    /// <summary>Most connections this key may have open at once. The default value is null: <see cref="AicpSecurityOptions.MaxConnectionsPerCredential"/>.</summary>
    public int? MaxConnections { get; set; }
}

/// <summary>Symmetric-key (HS256) JWT validation. Roles come from the <c>role</c> claim.</summary>
public sealed class JwtOptions
{
    /// <summary>The HMAC key, at least 32 bytes of UTF-8. Unset: JWTs are not accepted.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Required <c>iss</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>Required <c>aud</c>.</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Tolerated clock difference: a token is accepted until its <c>exp</c> plus this, and a connection opened with it
    /// is closed then. The default value is 30 s.
    /// </summary>
    public int ClockSkewSeconds { get; set; } = 30;

    public bool IsConfigured => !string.IsNullOrEmpty(SigningKey);
}

/// <summary>
/// A token bucket for Submit, shared by all connections of one credential. Present in the configuration means on
/// (unless <see cref="Enabled"/> is false); absent means no limit.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>False turns the limit off, e.g. for one key while a default applies to the others. The default value is true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bucket size: the largest burst. The default value is 10,000.</summary>
    public int TokenLimit { get; set; } = 10_000;

    /// <summary>Tokens added every period. The default value is 5,000.</summary>
    public int TokensPerPeriod { get; set; } = 5_000;

    /// <summary>The replenishment period. The default value is 1,000 ms (so 5,000 submits/s sustained).</summary>
    public int ReplenishmentPeriodMs { get; set; } = 1_000;
}
