using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Aicp.Hub.Security;

/// <summary>
/// The configured API keys, by SHA-256 hash. A presented key is hashed and looked up; the hub never holds a key in
/// clear. (The lookup compares hashes, so its timing says nothing useful about the key.)
/// </summary>
/// <remarks>
/// The keys come from <c>Aicp:Security:ApiKeys</c> (read again whenever the configuration reloads) or from
/// <see cref="AicpSecurityOptions.KeysFile"/> (watched). They are an immutable snapshot swapped as a whole, so readers
/// never lock. A reload is checked with the start-up rules; an invalid one is logged and the keys in use stay. Entries
/// whose grants did not change carry over (their limits updated in place); the others are revoked and
/// <see cref="KeysRevoked"/> is raised so their connections can be closed. Whether the hub runs open (no credentials)
/// is decided at start-up only: a reload that removes every key locks callers out, it never opens the hub.
/// </remarks>
internal sealed class ApiKeyStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly string? _keysFile;
    private readonly TimeProvider _time;
    private readonly SecurityEvents _events;
    private readonly IDisposable? _reloads;
    private readonly Lock _reloadLock = new();
    private volatile FrozenDictionary<string, ApiKeyEntry> _byHash;

    public ApiKeyStore(IOptions<AicpSecurityOptions> options, IConfiguration configuration, TimeProvider time, SecurityEvents events)
    {
        _configuration = configuration;
        _time = time;
        _events = events;
        var security = options.Value;
        DefaultLimits = CredentialLimits.Resolve(security.RateLimit, security.MaxConnectionsPerCredential, new CredentialLimits(null, null));
        _keysFile = string.IsNullOrEmpty(security.KeysFile) ? null : Path.GetFullPath(security.KeysFile);
        var keys = _keysFile is null
            ? security.ApiKeys
            : ApiKeysFile.Read(_keysFile, out var error) ?? throw new InvalidOperationException($"Aicp:Security:KeysFile cannot be read: {error}");
        _byHash = Index(keys.Select(k => new ApiKeyEntry(k, DefaultLimits)));
        if (_keysFile is not null)
        {
            _reloads = new Configuration.WatchedFile(_keysFile, ReloadSafely);
        }
        else if (security.HasCredentials)
        {
            _reloads = ChangeToken.OnChange(configuration.GetReloadToken, ReloadSafely);
        }
    }

    /// <summary>Raised after a reload revoked entries (removed keys, or keys whose hash or grants changed), outside any lock.</summary>
    public event Action<IReadOnlyList<RevokedKey>>? KeysRevoked;

    /// <summary>Limits of callers whose credential sets none: JWT subjects, keys without their own, open-mode connections.</summary>
    public CredentialLimits DefaultLimits { get; }

    /// <summary>The keys in use now.</summary>
    public IReadOnlyCollection<ApiKeyEntry> Keys => _byHash.Values;

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The entry for a presented key and why not when there is none: unknown, or expired.</summary>
    public ApiKeyEntry? Authenticate(string presentedKey, out string? failure)
    {
        if (presentedKey.Length > 1024 || !_byHash.TryGetValue(Hash(presentedKey), out var key))
        {
            failure = "unknown API key";
            return null;
        }

        if (key.ExpiresAt is { } expires && expires <= _time.GetUtcNow())
        {
            failure = $"API key '{key.Name}' expired at {expires:O}";
            return null;
        }

        failure = null;
        return key;
    }

    /// <summary>Open mode: an anonymous caller holding every role, bound to nothing.</summary>
    public static ClaimsPrincipal Anonymous(string scheme) => new(new ClaimsIdentity(
        AicpRoles.All.Select(r => new Claim(AicpClaimTypes.Role, r)), scheme, AicpClaimTypes.Name, AicpClaimTypes.Role));

    /// <summary>Reads the keys again (from the keys file, or the configuration) and applies them if they are valid.</summary>
    public void Reload()
    {
        List<RevokedKey> revoked;
        lock (_reloadLock)
        {
            var fresh = ReadKeys(out var source);
            var errors = new List<string>();
            if (fresh is not null)
            {
                AicpSecurityOptionsValidator.ValidateKeys(fresh, source, errors);
            }

            if (fresh is null || errors.Count > 0)
            {
                _events.KeysReloadRejected(fresh is null ? source : string.Join(" ", errors));
                return;
            }

            var current = _byHash;
            var byName = current.Values.ToDictionary(e => e.Name, StringComparer.Ordinal);
            var next = new List<ApiKeyEntry>(fresh.Count);
            var added = 0;
            foreach (var options in fresh)
            {
                var candidate = new ApiKeyEntry(options, DefaultLimits);
                if (byName.TryGetValue(candidate.Name, out var existing) && existing.GrantsSameAs(candidate))
                {
                    if (!existing.Limits.SameAs(candidate.Limits))
                    {
                        existing.Limits = candidate.Limits; // a new bucket for a new rate limit; unchanged ones keep theirs
                    }

                    next.Add(existing);
                }
                else
                {
                    next.Add(candidate);
                    added++;
                }
            }

            revoked = [.. current.Values.Where(e => !next.Contains(e)).Select(e => new RevokedKey(e, Reason(e, next)))];
            foreach (var key in revoked)
            {
                key.Entry.Revoke();
            }

            _byHash = Index(next);
            if (added > 0 || revoked.Count > 0)
            {
                _events.KeysReloaded(next.Count, added, revoked.Count);
            }
        }

        if (revoked.Count > 0)
        {
            KeysRevoked?.Invoke(revoked);
        }
    }

    public void Dispose()
    {
        _reloads?.Dispose();
    }

    /// <summary>The keys as their source says now; null when it cannot be read (<paramref name="source"/> then says why).</summary>
    private List<ApiKeyOptions>? ReadKeys(out string source)
    {
        if (_keysFile is not null)
        {
            var keys = ApiKeysFile.Read(_keysFile, out var error);
            source = error ?? $"Aicp:Security:KeysFile ({_keysFile}): ApiKeys";
            return keys;
        }

        source = "Aicp:Security:ApiKeys";
        try
        {
            return _configuration.GetSection(source).Get<List<ApiKeyOptions>>() ?? [];
        }
        catch (InvalidOperationException ex)
        {
            source = ex.Message;
            return null;
        }
    }

    // Runs on the thread that noticed the change (a file watcher's): nothing may escape from here.
    private void ReloadSafely()
    {
        try
        {
            Reload();
        }
        catch (Exception ex)
        {
            _events.KeysReloadRejected(ex.Message);
        }
    }

    private static string Reason(ApiKeyEntry old, List<ApiKeyEntry> next) =>
        next.FirstOrDefault(e => e.Name == old.Name) is not { } successor ? "removed"
        : successor.Hash != old.Hash ? "replaced by a new key"
        : "roles, bindings or expiry changed";

    private static FrozenDictionary<string, ApiKeyEntry> Index(IEnumerable<ApiKeyEntry> keys) => keys.ToFrozenDictionary(k => k.Hash, StringComparer.Ordinal);
}

/// <summary>A key a reload took away, and why.</summary>
internal sealed record RevokedKey(ApiKeyEntry Entry, string Reason);
