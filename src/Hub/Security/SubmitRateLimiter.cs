using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// A token bucket per submitter partition. The partitioned limiter replenishes its buckets from one timer
/// and drops a bucket after it has been full (idle) for a while, so the table stays as small as the set of
/// active submitters.
/// </summary>
internal sealed class SubmitRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public SubmitRateLimiter(IOptions<AicpSecurityOptions> options)
    {
        var rate = options.Value.RateLimit;
        if (!rate.Enabled)
        {
            return;
        }

        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate.TokenLimit,
            TokensPerPeriod = rate.TokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(rate.ReplenishmentPeriodMs),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => bucket));
    }

    /// <summary>Takes one token from the partition's bucket; false when it is empty.</summary>
    public bool TryAcquire(string partition)
    {
        if (_limiter is null)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(partition);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter?.Dispose();
}
