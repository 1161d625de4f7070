using System.Threading.RateLimiting;

namespace Aicp.Hub.Security;

/// <summary>
/// A token bucket per caller partition (a credential, or a connection in open mode), with the caller's own limit: an
/// API key's, else the default (<see cref="AicpSecurityOptions.RateLimit"/>). A caller without a limit takes no token
/// and costs nothing. The partitioned limiter replenishes its buckets from one timer and drops a bucket after it has
/// been full (idle) for a while, so the table stays as small as the set of active submitters.
/// </summary>
/// <remarks>
/// A partition is the pair (partition key, limit settings); the settings compare by reference, so a reload that changes
/// a key's limit starts that key on a fresh bucket with the new settings and the old bucket idles out.
/// </remarks>
internal sealed class SubmitRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<Bucket> _limiter = PartitionedRateLimiter.Create<Bucket, Bucket>(static bucket =>
        RateLimitPartition.GetTokenBucketLimiter(bucket, static b => new TokenBucketRateLimiterOptions
        {
            TokenLimit = b.Limit.TokenLimit,
            TokensPerPeriod = b.Limit.TokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(b.Limit.ReplenishmentPeriodMs),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Takes one token from the caller's bucket; false when it is empty. Always true for a caller without a limit.</summary>
    public bool TryAcquire(CallerGrants caller)
    {
        if (caller.Limits.RateLimit is not { } limit)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(new Bucket(caller.RateLimitKey, limit));
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();

    private readonly record struct Bucket(string Partition, RateLimitOptions Limit);
}
