using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Aicp.Agent.Sdk.Connection;

namespace Aicp.Bench.Commands;

/// <summary>
/// Option factories for the benchmark commands. System.CommandLine parses, lists and documents the options; a
/// numeric range is the one thing it has no declaration for, so numbers are read by a custom parser that states the
/// range in the error, with the invariant culture.
/// </summary>
internal static class BenchOptions
{
    /// <summary>An integer option with a default, accepted within <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = 1, int max = int.MaxValue) => new(name)
    {
        Description = $"{description} ({Range(min, max)})",
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var raw = Single(result);
            if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name} must be an integer {Bounds(min, max)}; got '{raw}'.");
            return default;
        },
    };

    /// <summary>A number option, accepted within <paramref name="min"/>..<paramref name="max"/>; null when absent and no default is given.</summary>
    public static Option<double?> Double(string name, string description, double? defaultValue, double min, double max) => new(name)
    {
        Description = $"{description} ({Range(min, max)})",
        HelpName = "X",
        DefaultValueFactory = defaultValue is null ? null : _ => defaultValue,
        CustomParser = result =>
        {
            var raw = Single(result);
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name} must be a number {Bounds(min, max)}; got '{raw}'.");
            return null;
        },
    };

    /// <summary>--seed: any integer.</summary>
    public static Option<int> Seed(string description, int defaultValue) => new("--seed")
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
    };

    /// <summary>A flag: present or not.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>--json: one JSON object on stdout instead of the text report.</summary>
    public static Option<bool> Json() => Flag("--json", "Print one JSON object on stdout instead of the text report");

    /// <summary>--workstation-gc: run the server processes without Server GC.</summary>
    public static Option<bool> WorkstationGc() => Flag("--workstation-gc", "Run the server children with workstation GC (DOTNET_gcServer=0)");

    /// <summary>--protocol json|messagepack (default json).</summary>
    public static Option<HubProtocol> Protocol(string description) =>
        new("--protocol") { Description = description + ": json or messagepack", DefaultValueFactory = _ => HubProtocol.Json };

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static string Bounds(double min, double max) => max >= int.MaxValue ? Range(min, max) : $"within {Range(min, max)}";

    private static string Range(double min, double max) => max >= int.MaxValue
        ? string.Create(CultureInfo.InvariantCulture, $">= {min}")
        : string.Create(CultureInfo.InvariantCulture, $"{min}..{max}");
}
