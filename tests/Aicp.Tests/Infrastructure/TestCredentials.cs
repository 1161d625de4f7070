using System.Text;
using System.Text.Json;
using Aicp.Hub.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Aicp.Tests.Infrastructure;

/// <summary>API keys, JWTs and keys files for tests of a hub with credentials configured.</summary>
public static class TestCredentials
{
    public const string AgentKey = "agent-secret-0001";
    public const string SubmitterKey = "submitter-secret-0002";
    public const string AdminKey = "admin-secret-0003";
    public const string WorkerKey = "worker-secret-0004"; // agent + submitter
    public const string MetricsKey = "metrics-secret-0005";
    public const string JwtKey = "a-test-signing-key-of-at-least-32-bytes!";
    public const string JwtIssuer = "test-issuer";
    public const string JwtAudience = "aicp";

    /// <summary>The key of each single role, by role name.</summary>
    public static readonly IReadOnlyDictionary<string, string> KeyOfRole = new Dictionary<string, string>
    {
        [AicpRoles.Agent] = AgentKey, [AicpRoles.Submitter] = SubmitterKey, [AicpRoles.Admin] = AdminKey, [AicpRoles.Metrics] = MetricsKey,
    };

    /// <summary>
    /// Settings of a hub with the standard keys (gpu-fleet: agent bound to gpu-* / image.*; frontend: submitter; ops: admin;
    /// worker: agent + submitter; scraper: metrics) and JWTs, plus <paramref name="extra"/>.
    /// </summary>
    public static Dictionary<string, string?> Secured(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>();
        AddKey(settings, 0, new Key("gpu-fleet", AgentKey, ["agent"], AgentIds: ["gpu-*"], Capabilities: ["image.*"]));
        AddKey(settings, 1, new Key("frontend", SubmitterKey, ["submitter"]));
        AddKey(settings, 2, new Key("ops", AdminKey, ["admin"]));
        AddKey(settings, 3, new Key("worker", WorkerKey, ["agent", "submitter"]));
        AddKey(settings, 4, new Key("scraper", MetricsKey, ["metrics"]));
        settings["Aicp:Security:Jwt:SigningKey"] = JwtKey;
        settings["Aicp:Security:Jwt:Issuer"] = JwtIssuer;
        settings["Aicp:Security:Jwt:Audience"] = JwtAudience;
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        return settings;
    }

    /// <summary>One API key as a test configures it: the key in clear (its hash goes to the hub) and its settings.</summary>
    public sealed record Key(string Name, string Secret, string[] Roles, string[]? AgentIds = null, string[]? Capabilities = null,
        DateTimeOffset? ExpiresAt = null, int? MaxConnections = null, (int TokenLimit, int TokensPerPeriod, int PeriodMs)? RateLimit = null)
    {
        /// <summary>The key's entry in the hub's shape (<c>Aicp:Security:ApiKeys:N</c> or a keys file).</summary>
        public Dictionary<string, object?> ToJson()
        {
            var json = new Dictionary<string, object?>
            {
                ["Name"] = Name, ["Sha256"] = ApiKeyStore.Hash(Secret), ["Roles"] = Roles,
                ["AgentIds"] = AgentIds ?? [], ["Capabilities"] = Capabilities ?? [],
            };
            if (ExpiresAt is { } expires)
            {
                json["ExpiresAt"] = expires.ToString("O");
            }

            if (MaxConnections is { } max)
            {
                json["MaxConnections"] = max;
            }

            if (RateLimit is { } rate)
            {
                json["RateLimit"] = new { rate.TokenLimit, rate.TokensPerPeriod, ReplenishmentPeriodMs = rate.PeriodMs };
            }

            return json;
        }
    }

    /// <summary>Adds <paramref name="key"/> as <c>Aicp:Security:ApiKeys:<paramref name="index"/></c>.</summary>
    public static void AddKey(IDictionary<string, string?> settings, int index, Key key)
    {
        var at = $"Aicp:Security:ApiKeys:{index}:";
        settings[at + "Name"] = key.Name;
        settings[at + "Sha256"] = ApiKeyStore.Hash(key.Secret);
        Add(settings, at + "Roles", key.Roles);
        Add(settings, at + "AgentIds", key.AgentIds ?? []);
        Add(settings, at + "Capabilities", key.Capabilities ?? []);
        if (key.ExpiresAt is { } expires)
        {
            settings[at + "ExpiresAt"] = expires.ToString("O");
        }

        if (key.MaxConnections is { } max)
        {
            settings[at + "MaxConnections"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (key.RateLimit is { } rate)
        {
            settings[at + "RateLimit:TokenLimit"] = rate.TokenLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[at + "RateLimit:TokensPerPeriod"] = rate.TokensPerPeriod.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[at + "RateLimit:ReplenishmentPeriodMs"] = rate.PeriodMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Writes a keys file (<c>Aicp:Security:KeysFile</c>) holding <paramref name="keys"/>, replacing it in one rename.</summary>
    public static void WriteKeysFile(string path, params Key[] keys)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new { ApiKeys = keys.Select(k => k.ToJson()) }));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A JWT the hub accepts: signed with <see cref="JwtKey"/>, for subject <paramref name="subject"/>, expiring at <paramref name="expires"/>.</summary>
    public static string Jwt(DateTime expires, string subject, params string[] roles)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["role"] = roles };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = JwtIssuer, Audience = JwtAudience, Claims = claims, Expires = expires, NotBefore = expires.AddHours(-1),
            IssuedAt = expires.AddHours(-1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(JwtKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A JWT for <c>jwt-user</c> valid for 5 minutes.</summary>
    public static string Jwt(params string[] roles) => Jwt(DateTime.UtcNow.AddMinutes(5), "jwt-user", roles);

    private static void Add(IDictionary<string, string?> settings, string at, string[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            settings[$"{at}:{i}"] = values[i];
        }
    }
}
