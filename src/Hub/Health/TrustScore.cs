namespace Aicp.Hub.Health;

/// <summary>
/// A trust score in [0, 1], starting at 0.5 (no evidence either way). The rule:
/// <list type="bullet">
/// <item>success: moves it 5% of the way to 1 (<c>t += (1 - t) * 0.05</c>);</item>
/// <item>agent error: takes 10% of it away (<c>t *= 0.9</c>);</item>
/// <item>timeout: takes 20% away (<c>t *= 0.8</c>).</item>
/// </list>
/// Why: losses are multiplicative and larger than gains (like AIMD), so a few failures move an agent more
/// than a few successes, but no single outcome drives it to 0 or 1. A timeout costs more than an error
/// because the submitter waited the whole attempt timeout before failing over, where an error lets it
/// fail over at once. Recovery is earned: an agent that does well again gains 5% of the remaining gap per
/// success (about 14 successes from 0.25 back to 0.5, 45 to 0.9), and the strategies never weight an agent
/// to exactly zero, so a distrusted agent keeps receiving the few tasks it needs to recover.
/// At a 30% failure rate the score settles near 0.54; a reliable agent tends to 1.
/// Lock-free compare-and-swap updates.
/// </summary>
internal sealed class TrustScore
{
    public const double Initial = 0.5;
    public const double SuccessGain = 0.05;
    public const double ErrorLoss = 0.10;
    public const double TimeoutLoss = 0.20;

    private double _value = Initial;

    public double Value => Volatile.Read(ref _value);

    public void Success() => Update(static t => t + (1 - t) * SuccessGain);

    public void Error() => Update(static t => t * (1 - ErrorLoss));

    public void Timeout() => Update(static t => t * (1 - TimeoutLoss));

    private void Update(Func<double, double> step)
    {
        while (true)
        {
            var current = Volatile.Read(ref _value);
            var next = Math.Clamp(step(current), 0, 1);
            if (Interlocked.CompareExchange(ref _value, next, current).Equals(current))
            {
                return;
            }
        }
    }
}
