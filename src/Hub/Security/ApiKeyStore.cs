using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// The configured API keys, by SHA-256 hash. A presented key is hashed and looked up; the hub never holds a
/// key in clear. (The lookup compares hashes, so its timing says nothing useful about the key.)
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly FrozenDictionary<string, ApiKeyOptions> _byHash;

    public ApiKeyStore(IOptions<AicpSecurityOptions> options) =>
        _byHash = options.Value.ApiKeys.ToFrozenDictionary(k => k.Sha256.ToLowerInvariant(), StringComparer.Ordinal);

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The principal for a presented key, or null when no configured key matches.</summary>
    public ClaimsPrincipal? Authenticate(string presentedKey, string scheme)
    {
        if (presentedKey.Length > 1024 || !_byHash.TryGetValue(Hash(presentedKey), out var key))
        {
            return null;
        }

        var claims = new List<Claim> { new(AicpClaimTypes.Name, key.Name) };
        claims.AddRange(key.Roles.Select(r => new Claim(AicpClaimTypes.Role, r)));
        claims.AddRange(key.AgentIds.Select(p => new Claim(AicpClaimTypes.AgentId, p)));
        claims.AddRange(key.Capabilities.Select(p => new Claim(AicpClaimTypes.Capability, p)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, AicpClaimTypes.Name, AicpClaimTypes.Role));
    }

    /// <summary>Open mode: an anonymous caller holding every role, bound to nothing.</summary>
    public static ClaimsPrincipal Anonymous(string scheme) => new(new ClaimsIdentity(
        AicpRoles.All.Select(r => new Claim(AicpClaimTypes.Role, r)), scheme, AicpClaimTypes.Name, AicpClaimTypes.Role));
}
