using System.CommandLine;
using Aicp.Agent.Sdk.Connection;
using Aicp.SampleAgents.Labelee;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>labelee</c> was asked to serve.</summary>
internal sealed record LabeleeSettings(
    string Hub, LabeleeProfile Profile, HubProtocol Protocol, int Batch, string? Token, string Device, string? CaCert = null);

/// <summary>
/// <c>labelee --hub URL --id ID [...]</c>: one <c>image.label</c> agent serving the digit labeller (the shipped ONNX
/// model on ONNX Runtime) until Ctrl+C or SIGTERM, which drains it.
/// </summary>
internal sealed class LabeleeCommand : Command
{
    public const string CommandName = "labelee";

    public Option<string> Hub { get; } = CliOptions.Hub();

    public Option<string> Id { get; } = CliOptions.AgentId("Agent id, unique per hub");

    public Option<int> DelayMs { get; } = CliOptions.Int("--delay-ms", "Simulated work per image, ms", 10, 0, 600_000, "MS");

    public Option<int> JitterMs { get; } = CliOptions.Int("--jitter-ms", "Random extra delay, up to this many ms", 0, 0, 600_000, "MS");

    public Option<double> FailRate { get; } = CliOptions.Double("--fail-rate", "Share of tasks answered with a failure", 0, 0, 1, "P");

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Tasks in progress at once", 4, 1, 10_000);

    public Option<int> Batch { get; } = CliOptions.Int("--batch", "Most tasks gathered into one model run (1: no batching)", 1, 1, 4096);

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public Option<string> Device { get; } = CliOptions.Device();

    public LabeleeCommand()
        : base(CommandName, "One image.label agent: the digit labeller on ONNX Runtime (CUDA when its execution provider loads, else CPU). " +
                            "Ctrl+C or SIGTERM drains it and exits.")
    {
        Hub.Required = true;
        Id.Required = true;
        Option[] options = [Hub, Id, DelayMs, JitterMs, FailRate, Concurrency, Batch, Protocol, Token, CaCert, Device];
        foreach (var option in options)
        {
            Options.Add(option);
        }

        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public LabeleeSettings Bind(ParseResult parse) => new(
        parse.GetValue(Hub)!,
        new LabeleeProfile(parse.GetValue(Id) ?? "", parse.GetValue(DelayMs), parse.GetValue(JitterMs), parse.GetValue(FailRate), parse.GetValue(Concurrency)),
        parse.GetValue(Protocol),
        parse.GetValue(Batch),
        parse.GetValue(Token),
        parse.GetValue(Device)!,
        parse.GetValue(CaCert));

    private static async Task<int> RunAsync(LabeleeSettings settings, CancellationToken stop)
    {
        using var logging = AgentLifetime.ConsoleLogging();
        if (!AgentLifetime.TryLoadLabeller(settings.Device, logging, out var loaded))
        {
            return ExitCodes.Failure;
        }

        using var labeller = loaded;
        Console.WriteLine($"labeller: {labeller.Description}; {labeller.Model.DeviceNote}");
        await using var agent = LabeleeAgent.Create(settings.Hub, settings.Profile, labeller, logging, settings.Protocol, settings.Batch, settings.Token,
            CliOptions.CertificateValidation(settings.CaCert));
        return await AgentLifetime.RunUntilStoppedAsync([agent], stop, CommandName, settings.Token is not null);
    }
}
