namespace Aicp.Hub.Registry;

/// <summary>
/// A trust score in [0, 1], starting at 0.5. A success moves it 5% of the way to 1; an agent error
/// takes 10% of it away and a timeout 20% (a timeout costs the submitter more than a quick error).
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
