using Aicp.Hub.Configuration;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>Checks the security settings at start-up and reports every problem together.</summary>
internal sealed class AicpSecurityOptionsValidator(IOptions<AicpHubOptions> hub) : IValidateOptions<AicpSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, AicpSecurityOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var at = $"Aicp:Security:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name) || !names.Add(key.Name))
            {
                errors.Add($"{at}:Name must be set and unique.");
            }

            if (key.Sha256 is not { Length: 64 } || !key.Sha256.All(Uri.IsHexDigit))
            {
                errors.Add($"{at}:Sha256 must be 64 hex digits (the SHA-256 of the key, not the key).");
            }
            else if (!hashes.Add(key.Sha256))
            {
                errors.Add($"{at}:Sha256 repeats another key's hash.");
            }

            if (key.Roles.Count == 0 || key.Roles.Any(r => !AicpRoles.All.Contains(r)))
            {
                errors.Add($"{at}:Roles must name one or more of {string.Join(", ", AicpRoles.All)}.");
            }

            foreach (var pattern in key.AgentIds.Concat(key.Capabilities))
            {
                if (!NamePattern.IsValid(pattern))
                {
                    errors.Add($"{at}: pattern '{pattern}' may use only a-z 0-9 . _ - * ? (1..128 characters).");
                }
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

        if (options.MaxPayloadBytes < 1 || options.MaxPayloadBytes > hub.Value.MaxMessageBytes)
        {
            errors.Add($"Aicp:Security:MaxPayloadBytes must be within 1..Aicp:MaxMessageBytes ({hub.Value.MaxMessageBytes}); raise MaxMessageBytes first.");
        }

        if (options.MaxResultBytes < 1 || options.MaxResultBytes > hub.Value.MaxMessageBytes)
        {
            errors.Add($"Aicp:Security:MaxResultBytes must be within 1..Aicp:MaxMessageBytes ({hub.Value.MaxMessageBytes}).");
        }

        var rate = options.RateLimit;
        if (rate.Enabled && (rate.TokenLimit < 1 || rate.TokensPerPeriod < 1 || rate.ReplenishmentPeriodMs < 1))
        {
            errors.Add("Aicp:Security:RateLimit: TokenLimit, TokensPerPeriod and ReplenishmentPeriodMs must be at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
