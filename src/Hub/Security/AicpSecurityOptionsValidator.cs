using Aicp.Hub.Configuration;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>Checks the security settings at start-up and reports every problem together.</summary>
internal sealed class AicpSecurityOptionsValidator(IOptions<AicpHubOptions> hub) : IValidateOptions<AicpSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, AicpSecurityOptions options)
    {
        var errors = new List<string>();
        ValidateKeys(options.ApiKeys, "Aicp:Security:ApiKeys", errors);
        if (!string.IsNullOrEmpty(options.KeysFile))
        {
            if (options.ApiKeys.Count > 0)
            {
                errors.Add("Aicp:Security:KeysFile and Aicp:Security:ApiKeys are both set: keep the keys in one place.");
            }

            if (ApiKeysFile.Read(options.KeysFile, out var error) is { } fileKeys)
            {
                ValidateKeys(fileKeys, $"Aicp:Security:KeysFile ({options.KeysFile}): ApiKeys", errors);
            }
            else
            {
                errors.Add($"Aicp:Security:KeysFile cannot be read: {error}");
            }
        }

        if (options.Jwt.IsConfigured)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(options.Jwt.SigningKey!) < 32)
            {
                errors.Add("Aicp:Security:Jwt:SigningKey must be at least 32 bytes (HS256).");
            }

            if (string.IsNullOrWhiteSpace(options.Jwt.Issuer) || string.IsNullOrWhiteSpace(options.Jwt.Audience))
            {
                errors.Add("Aicp:Security:Jwt:Issuer and Aicp:Security:Jwt:Audience are required with a signing key.");
            }

            if (options.Jwt.ClockSkewSeconds is < 0 or > 600)
            {
                errors.Add("Aicp:Security:Jwt:ClockSkewSeconds must be within 0..600.");
            }
        }

        // Checked against the frame limit only when the hub's own settings are valid: otherwise their validator reports them.
        var maxMessageBytes = MaxMessageBytes();
        if (options.MaxPayloadBytes < 1 || options.MaxPayloadBytes > maxMessageBytes)
        {
            errors.Add($"Aicp:Security:MaxPayloadBytes must be within 1..Aicp:MaxMessageBytes ({maxMessageBytes}); raise MaxMessageBytes first.");
        }

        if (options.MaxResultBytes < 1 || options.MaxResultBytes > maxMessageBytes)
        {
            errors.Add($"Aicp:Security:MaxResultBytes must be within 1..Aicp:MaxMessageBytes ({maxMessageBytes}).");
        }

        CheckRateLimit(errors, "Aicp:Security:RateLimit", options.RateLimit);
        CheckConnections(errors, "Aicp:Security:MaxConnections", options.MaxConnections);
        CheckConnections(errors, "Aicp:Security:MaxConnectionsPerCredential", options.MaxConnectionsPerCredential);
        if (!Enum.IsDefined(options.MetricsAccess))
        {
            errors.Add("Aicp:Security:MetricsAccess must be Credential, Loopback or Open.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private long? MaxMessageBytes()
    {
        try
        {
            return hub.Value.MaxMessageBytes;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The rules for a list of keys (also applied to every reload of them); <paramref name="at"/> names the list in errors.</summary>
    public static void ValidateKeys(IReadOnlyList<ApiKeyOptions> keys, string at, List<string> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var item = $"{at}:{i}";
            if (string.IsNullOrWhiteSpace(key.Name) || !names.Add(key.Name))
            {
                errors.Add($"{item}:Name must be set and unique.");
            }

            if (key.Sha256 is not { Length: 64 } || !key.Sha256.All(Uri.IsHexDigit))
            {
                errors.Add($"{item}:Sha256 must be 64 hex digits (the SHA-256 of the key, not the key).");
            }
            else if (!hashes.Add(key.Sha256))
            {
                errors.Add($"{item}:Sha256 repeats another key's hash.");
            }

            if (key.Roles.Count == 0 || key.Roles.Any(r => !AicpRoles.All.Contains(r)))
            {
                errors.Add($"{item}:Roles must name one or more of {string.Join(", ", AicpRoles.All)}.");
            }

            foreach (var pattern in key.AgentIds.Concat(key.Capabilities))
            {
                if (!NamePattern.IsValid(pattern))
                {
                    errors.Add($"{item}: pattern '{pattern}' may use only a-z 0-9 . _ - * ? (1..128 characters).");
                }
            }

            CheckRateLimit(errors, $"{item}:RateLimit", key.RateLimit);
            CheckConnections(errors, $"{item}:MaxConnections", key.MaxConnections);
        }
    }

    private static void CheckRateLimit(List<string> errors, string at, RateLimitOptions? rate)
    {
        if (rate is { Enabled: true } && (rate.TokenLimit < 1 || rate.TokensPerPeriod < 1 || rate.ReplenishmentPeriodMs < 1))
        {
            errors.Add($"{at}: TokenLimit, TokensPerPeriod and ReplenishmentPeriodMs must be at least 1.");
        }
    }

    private static void CheckConnections(List<string> errors, string at, int? limit)
    {
        if (limit is < 1)
        {
            errors.Add($"{at} must be at least 1 (leave it unset for no limit).");
        }
    }
}
