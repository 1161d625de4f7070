namespace Aicp.Hub.Observability;

/// <summary>
/// One metric family as the hub declares it: the Prometheus name (counters end in <c>_total</c>), the help text,
/// the unit (for OTLP) and the label names, in the order the exposition writes them.
/// </summary>
internal sealed record MetricFamily(string Name, string Help, string Unit, string[] Labels)
{
    private const string TotalSuffix = "_total";

    /// <summary>The instrument name over OTLP: the family name without the counter suffix.</summary>
    public string OtlpName => Name.EndsWith(TotalSuffix, StringComparison.Ordinal) ? Name[..^TotalSuffix.Length] : Name;
}
