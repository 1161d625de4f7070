namespace Aicp.Bench.Infrastructure;

/// <summary>Percentiles of a set of latency samples (milliseconds), nearest-rank.</summary>
internal sealed record LatencySummary(int Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static LatencySummary Of(IEnumerable<double> samples)
    {
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        if (sorted.Length == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0);
        }

        return new LatencySummary(sorted.Length, Math.Round(sorted.Average(), 3), At(sorted, 0.50), At(sorted, 0.90),
            At(sorted, 0.99), At(sorted, 0.999), Math.Round(sorted[^1], 3));
    }

    public static double Median(IEnumerable<double> values) => LatencySummary.Of(values).P50Ms;

    private static double At(double[] sorted, double q) =>
        Math.Round(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)], 3);
}
