using Aicp.Protocol;

namespace Aicp.Hub.Security;

/// <summary>
/// Who may connect and what they may do, and the per-caller limits; bound from <c>Aicp:Security</c> and
/// validated at start-up. With no API key and no JWT key configured the hub runs open (every caller holds
/// every role); that is allowed on a loopback address, and elsewhere only with <see cref="AllowAnonymous"/>.
/// </summary>
public sealed class AicpSecurityOptions
{
    public const string SectionName = "Aicp:Security";

    /// <summary>
    /// Lets a hub with no credentials configured listen on a non-loopback address. Has no effect once keys
    /// are configured (then every caller authenticates). The default value is false.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Accepted API keys, stored as SHA-256 hashes.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>JWT bearer validation; off unless <see cref="JwtOptions.SigningKey"/> is set.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// When true, <c>/v1/*</c> answers loopback callers without credentials; other callers still need
    /// <c>admin</c>. The default value is false.
    /// </summary>
    public bool StatusOpenOnLoopback { get; set; }

    /// <summary>Largest task payload, measured on its JSON text. The default value is 1 MiB (1,048,576).</summary>
    public int MaxPayloadBytes { get; set; } = ProtocolDefaults.MaxPayloadBytes;

    /// <summary>Largest result an agent may return, measured on its JSON text; a larger one closes that agent's connection. The default value is 1 MiB.</summary>
    public int MaxResultBytes { get; set; } = ProtocolDefaults.MaxPayloadBytes;

    /// <summary>Per-submitter token bucket for Submit.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Whether any credential is configured (otherwise the hub runs open).</summary>
    public bool HasCredentials => ApiKeys.Count > 0 || Jwt.IsConfigured;
}

/// <summary>One API key: its hash, roles, and what an agent holding it may register.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A label for logs and the rate-limit partition, e.g. <c>gpu-fleet</c>. Must be unique.</summary>
    public string Name { get; set; } = "";

    /// <summary>SHA-256 of the key's UTF-8 bytes as 64 hex digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Any of <c>agent</c>, <c>submitter</c>, <c>admin</c>.</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Agent id patterns (<c>*</c> any run, <c>?</c> one character) this key may register. Empty: any.</summary>
    public List<string> AgentIds { get; set; } = [];

    /// <summary>Capability patterns this key may register. Empty: any.</summary>
    public List<string> Capabilities { get; set; } = [];
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

    /// <summary>Tolerated clock difference. The default value is 30 s.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    public bool IsConfigured => !string.IsNullOrEmpty(SigningKey);
}

/// <summary>A token bucket per submitter (credential name, or connection when anonymous).</summary>
public sealed class RateLimitOptions
{
    /// <summary>The default value is true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bucket size: the largest burst. The default value is 10,000.</summary>
    public int TokenLimit { get; set; } = 10_000;

    /// <summary>Tokens added every period. The default value is 5,000.</summary>
    public int TokensPerPeriod { get; set; } = 5_000;

    /// <summary>The replenishment period. The default value is 1,000 ms (so 5,000 submits/s sustained).</summary>
    public int ReplenishmentPeriodMs { get; set; } = 1_000;
}
