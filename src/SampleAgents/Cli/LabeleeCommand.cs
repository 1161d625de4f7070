using Aicp.Agent.Sdk.Connection;
using System.CommandLine;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Labelling;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>labelee</c> was asked to do: serve as one agent, or run the backend self-test.</summary>
internal sealed record LabeleeSettings(
    string? Hub, LabeleeProfile Profile, HubProtocol Protocol, int Batch, string? Token, string Device, bool SelfTest, string? CaCert = null);

/// <summary>
/// <c>labelee --hub URL --id ID [...]</c>: one <c>image.label</c> agent serving the digit labeller until Ctrl+C or
/// SIGTERM, which drains it. <c>labelee --self-test [--device D]</c> compares a backend with the CPU one instead.
/// </summary>
internal sealed class LabeleeCommand : Command
{
    public const string CommandName = "labelee";

    public Option<string> Hub { get; } = CliOptions.Hub("required unless --self-test");

    public Option<string> Id { get; } = CliOptions.AgentId("Agent id, unique per hub; required unless --self-test");

    public Option<int> DelayMs { get; } = CliOptions.Int("--delay-ms", "Simulated work per image, ms", 10, 0, 600_000, "MS");

    public Option<int> JitterMs { get; } = CliOptions.Int("--jitter-ms", "Random extra delay, up to this many ms", 0, 0, 600_000, "MS");

    public Option<double> FailRate { get; } = CliOptions.Double("--fail-rate", "Share of tasks answered with a failure", 0, 0, 1, "P");

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Tasks in progress at once", 4, 1, 10_000);

    public Option<int> Batch { get; } = CliOptions.Int("--batch", "Images classified per batch call", 1, 1, 4096);

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public Option<string> Device { get; } = CliOptions.Device();

    public Option<bool> SelfTest { get; } = CliOptions.Flag("--self-test",
        "Compare the chosen backend with the CPU backend on 1,000 digits and exit (takes only --device)");

    public LabeleeCommand()
        : base(CommandName, "One image.label agent: the digit labeller (CUDA when the NVIDIA driver loads, else CPU). Ctrl+C or SIGTERM drains it and exits.")
    {
        Option[] agentOptions = [Hub, Id, DelayMs, JitterMs, FailRate, Concurrency, Batch, Protocol, Token, CaCert];
        foreach (var option in agentOptions)
        {
            Options.Add(option);
        }

        Options.Add(Device);
        Options.Add(SelfTest);
        Validators.Add(result =>
        {
            if (result.GetValue(SelfTest))
            {
                foreach (var option in agentOptions.Where(o => result.GetResult(o) is { Implicit: false }))
                {
                    result.AddError($"Option '{option.Name}' does not apply to --self-test.");
                }

                return;
            }

            CliOptions.Require(result, Hub, "with --self-test");
            CliOptions.Require(result, Id, "with --self-test");
        });
        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public LabeleeSettings Bind(ParseResult parse) => new(
        parse.GetValue(Hub),
        new LabeleeProfile(parse.GetValue(Id) ?? "", parse.GetValue(DelayMs), parse.GetValue(JitterMs), parse.GetValue(FailRate), parse.GetValue(Concurrency)),
        parse.GetValue(Protocol),
        parse.GetValue(Batch),
        parse.GetValue(Token),
        parse.GetValue(Device)!,
        parse.GetValue(SelfTest),
        parse.GetValue(CaCert));

    private static async Task<int> RunAsync(LabeleeSettings settings, CancellationToken stop)
    {
        if (settings.SelfTest)
        {
            return LabellerSelfTest.Run(settings.Device, Console.Out);
        }

        using var logging = AgentLifetime.ConsoleLogging();
        using var labeller = DigitLabeller.LoadDefault(settings.Device, out var note);
        Console.WriteLine($"labeller: mnist-mlp {labeller.Architecture} on {note}");
        await using var agent = LabeleeAgent.Create(settings.Hub!, settings.Profile, labeller, logging, settings.Protocol, settings.Batch, settings.Token,
            CliOptions.CertificateValidation(settings.CaCert));
        return await AgentLifetime.RunUntilStoppedAsync([agent], stop, CommandName, settings.Token is not null);
    }
}
