using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net.Security;
using Aicp.Agent.Sdk.Connection;
using Aicp.SampleAgents.Onnx;

namespace Aicp.SampleAgents.Cli;

/// <summary>
/// Option factories shared by the commands. System.CommandLine parses, lists and documents the options; what it
/// has no declaration for is a numeric range, so the numbers are read by a custom parser that states the range in
/// the error ("--delay-ms must be an integer within 0..600000; got '-1'."), parsed with the invariant culture.
/// </summary>
internal static class CliOptions
{
    /// <summary>An integer option with a default, accepted within <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max, string helpName = "N") => new(name)
    {
        Description = $"{description} ({Range(min, max)})",
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, min, max) ?? default,
    };

    /// <summary>An integer option without a default: null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max, string helpName = "N") => new(name)
    {
        Description = $"{description} ({Range(min, max)})",
        HelpName = helpName,
        CustomParser = result => ParseInt(result, name, min, max),
    };

    /// <summary>A number option with a default, accepted within <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static Option<double> Double(string name, string description, double defaultValue, double min, double max, string helpName = "X") => new(name)
    {
        Description = $"{description} ({Range(min, max)})",
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var raw = Single(result);
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name} must be a number {Bounds(min, max)}; got '{raw}'.");
            return default;
        },
    };

    /// <summary>--hub URL[,URL...]: the hub's base URL, or several nodes of one cluster (the SDK appends /aicp unless the URL has a path).</summary>
    public static Option<string> Hub(string? note = null)
    {
        var option = new Option<string>("--hub")
        {
            Description = "The hub's base URL, e.g. http://127.0.0.1:5000 (/aicp is appended unless the URL has a path); several nodes of one cluster separated by commas, tried in turn" + (note is null ? "" : $"; {note}"),
            HelpName = "URL",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } url && new AicpConnectionOptions { HubUrl = url }.ValidateConnection() is [var problem, ..])
            {
                result.AddError($"--hub: {problem}");
            }
        });
        return option;
    }

    /// <summary>--id ID: an agent id, checked against the hub's name grammar.</summary>
    public static Option<string> AgentId(string description)
    {
        var option = new Option<string>("--id") { Description = description, HelpName = "ID" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } id && !Aicp.Protocol.Names.IsValid(id))
            {
                result.AddError($"--id must match ^[a-z0-9][a-z0-9._-]{{0,127}}$ (lower case); got '{id}'.");
            }
        });
        return option;
    }

    /// <summary>--token KEY: an API key or JWT for a hub that requires one.</summary>
    public static Option<string> Token() => new("--token")
    {
        Description = "API key or JWT, when the hub requires one",
        HelpName = "KEY",
    };

    /// <summary>--ca-cert FILE: a CA (or the hub's self-signed certificate) to trust for an https:// hub, besides the system's.</summary>
    public static Option<string> CaCert()
    {
        var option = new Option<string>("--ca-cert")
        {
            Description = "PEM or DER certificate of a CA, or the hub's own self-signed certificate, to trust for an https:// hub (besides the system's trust store)",
            HelpName = "FILE",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } path && !File.Exists(path))
            {
                result.AddError($"--ca-cert: the file '{path}' does not exist.");
            }
        });
        return option;
    }

    /// <summary>The certificate check for <paramref name="caCert"/>; null (the system's trust store) when none was given.</summary>
    public static RemoteCertificateValidationCallback? CertificateValidation(string? caCert) =>
        caCert is null ? null : HubCertificates.TrustRoots(HubCertificates.LoadCertificate(caCert));

    /// <summary>--protocol json|messagepack (default json; any case).</summary>
    public static Option<HubProtocol> Protocol() => new("--protocol")
    {
        Description = "SignalR hub protocol: json or messagepack",
        DefaultValueFactory = _ => HubProtocol.Json,
    };

    /// <summary>--device auto|cpu|cuda (default auto: ONNX Runtime's CUDA execution provider when it loads, else the CPU).</summary>
    public static Option<string> Device() => Choice("--device", "Where ONNX Runtime runs the model (auto: CUDA when its execution provider loads, else CPU)",
        InferenceDevices.Auto, [.. InferenceDevices.All]);

    /// <summary>A flag: present or not.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>A string option restricted to <paramref name="values"/> (exact spelling).</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>Reports <paramref name="option"/> as missing unless it was given on the command line.</summary>
    public static void Require(CommandResult command, Option option, string? unless = null)
    {
        if (command.GetResult(option) is null or { Implicit: true })
        {
            command.AddError(unless is null ? $"Option '{option.Name}' is required." : $"Option '{option.Name}' is required (except {unless}).");
        }
    }

    private static int? ParseInt(ArgumentResult result, string name, int min, int max)
    {
        var raw = Single(result);
        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError($"{name} must be an integer {Bounds(min, max)}; got '{raw}'.");
        return null;
    }

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static string Bounds(double min, double max) => max >= int.MaxValue ? Range(min, max) : $"within {Range(min, max)}";

    private static string Range(double min, double max) => max >= int.MaxValue
        ? string.Create(CultureInfo.InvariantCulture, $">= {min}")
        : string.Create(CultureInfo.InvariantCulture, $"{min}..{max}");
}
