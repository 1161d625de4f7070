using System.Globalization;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>--name value</c> and <c>--flag</c> options of the child-process roles (Roles/), whose argument lists are written
/// by the benchmarks that start them. The commands people type are declared with System.CommandLine (BenchOptions).
/// </summary>
internal sealed class BenchArgs(string[] args)
{
    public bool Flag(string name) => Array.IndexOf(args, "--" + name) >= 0;

    public string? String(string name)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public int Int(string name, int fallback) =>
        String(name) is { } raw ? int.Parse(raw, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        String(name) is { } raw ? double.Parse(raw, CultureInfo.InvariantCulture) : fallback;
}
