using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// Counts the connections open to the hub endpoint, over all callers and per credential, and refuses one that would go
/// over <see cref="AicpSecurityOptions.MaxConnections"/> or the credential's own cap. Counts are kept whether or not a
/// cap is set, so a cap that a reload introduces applies to the connections already open. Lock-free: an
/// <see cref="Interlocked"/> total and a per-credential count that is removed when it drops to 0.
/// </summary>
internal sealed class ConnectionLimiter(IOptions<AicpSecurityOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _perCredential = new(StringComparer.Ordinal);
    private readonly int? _max = options.Value.MaxConnections;
    private int _total;

    public enum Verdict
    {
        Accepted,

        /// <summary>The credential has as many connections open as its cap allows.</summary>
        CredentialFull,

        /// <summary>The hub has <see cref="AicpSecurityOptions.MaxConnections"/> open.</summary>
        HubFull,
    }

    /// <summary>Connections open now.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>The hub-wide cap; null: none.</summary>
    public int? Max => _max;

    /// <summary>Connections open now for one credential.</summary>
    public int OpenFor(string credential) => _perCredential.TryGetValue(credential, out var count) ? count : 0;

    /// <summary>Counts a connection unless a cap refuses it; an accepted one must be released exactly once.</summary>
    public Verdict TryAcquire(string? credential, int? credentialCap)
    {
        if (Interlocked.Increment(ref _total) > _max)
        {
            Interlocked.Decrement(ref _total);
            return Verdict.HubFull;
        }

        if (credential is not null && _perCredential.AddOrUpdate(credential, 1, static (_, n) => n + 1) > credentialCap)
        {
            Release(credential);
            return Verdict.CredentialFull;
        }

        return Verdict.Accepted;
    }

    public void Release(string? credential)
    {
        if (credential is not null && _perCredential.AddOrUpdate(credential, 0, static (_, n) => n - 1) <= 0)
        {
            // Removes the entry only while it is still 0: a connection counted meanwhile keeps it.
            _perCredential.TryRemove(new KeyValuePair<string, int>(credential, 0));
        }

        Interlocked.Decrement(ref _total);
    }
}
