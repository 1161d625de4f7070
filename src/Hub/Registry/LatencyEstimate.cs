namespace Aicp.Hub.Registry;

/// <summary>
/// An exponentially weighted moving average of one agent's latency for one method.
/// Lock-free: the estimate is one double written with a compare-and-swap loop.
/// </summary>
internal sealed class LatencyEstimate
{
    /// <summary>Weight of a new sample. The default value is 0.2.</summary>
    public const double Alpha = 0.2;

    private double _ms = double.NaN;

    /// <summary>The estimate in milliseconds, or NaN before the first sample.</summary>
    public double Milliseconds => Volatile.Read(ref _ms);

    public bool HasValue => !double.IsNaN(Milliseconds);

    public void Record(double sampleMs)
    {
        while (true)
        {
            var current = Volatile.Read(ref _ms);
            var next = double.IsNaN(current) ? sampleMs : current + Alpha * (sampleMs - current);
            if (Interlocked.CompareExchange(ref _ms, next, current).Equals(current))
            {
                return;
            }
        }
    }
}
