namespace Aicp.Hub.Hosting;

/// <summary>
/// The hub's configuration is invalid: <see cref="Problems"/> lists every problem found (values that do not convert,
/// settings out of range, rules across settings, an open hub on a public address), one line each. Thrown before the
/// hub starts; the hub's program prints the message and exits with <see cref="AicpHubApplication.ConfigurationErrorExitCode"/>.
/// </summary>
public sealed class AicpConfigurationException : Exception
{
    public AicpConfigurationException(IReadOnlyList<string> problems)
        : base(Describe(problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem, one line each, naming the setting (e.g. <c>Aicp:DefaultTimeoutMs must be within 1..600000.</c>).</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(IReadOnlyList<string> problems) =>
        $"The hub's configuration is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):" + Environment.NewLine
        + string.Join(Environment.NewLine, problems.Select(p => "  - " + p));
}
