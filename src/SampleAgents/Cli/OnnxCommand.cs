using System.CommandLine;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.SampleAgents.Onnx;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>onnx</c> was asked to serve.</summary>
internal sealed record OnnxSettings(string Model, string Device, OnnxAgentSettings Agent);

/// <summary>
/// <c>onnx --model FILE --capability NAME --hub URL --id ID [...]</c>: one agent serving any ONNX model with float32
/// tensor inputs as a capability (payload and result: <see cref="TensorRequest"/>, <see cref="TensorResult"/>) until
/// Ctrl+C or SIGTERM, which drains it.
/// </summary>
internal sealed class OnnxCommand : Command
{
    public const string CommandName = "onnx";

    public Option<string> Model { get; } = new("--model") { Description = "The ONNX model file (float32 tensor inputs and outputs)", HelpName = "FILE", Required = true };

    public Option<string> Capability { get; } = new("--capability")
    {
        Description = "The capability to serve, e.g. digits.cnn (^[a-z0-9][a-z0-9._-]{0,127}$)",
        HelpName = "NAME",
        Required = true,
    };

    public Option<string> Hub { get; } = CliOptions.Hub();

    public Option<string> Id { get; } = CliOptions.AgentId("Agent id, unique per hub");

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Tasks in progress at once (also the largest batch)", 16, 1, 10_000);

    public Option<int> Batch { get; } = CliOptions.Int("--batch", "Most tasks stacked into one model run (1: no batching)", 1, 1, 4096);

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public Option<string> Device { get; } = CliOptions.Device();

    public OnnxCommand()
        : base(CommandName, "One agent serving an ONNX model as a capability: tasks carry named float32 tensors, results the model's outputs. " +
                            "Ctrl+C or SIGTERM drains it and exits.")
    {
        Hub.Required = true;
        Id.Required = true;
        foreach (var option in new Option[] { Model, Capability, Hub, Id, Concurrency, Batch, Protocol, Token, CaCert, Device })
        {
            Options.Add(option);
        }

        Validators.Add(result =>
        {
            if (result.GetResult(Capability) is not null && result.GetValue(Capability) is { } capability && !Names.IsValid(capability))
            {
                result.AddError($"--capability '{capability}' does not match ^[a-z0-9][a-z0-9._-]{{0,127}}$.");
            }
        });
        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public OnnxSettings Bind(ParseResult parse) => new(
        parse.GetValue(Model)!,
        parse.GetValue(Device)!,
        new OnnxAgentSettings(parse.GetValue(Hub)!, parse.GetValue(Id)!, parse.GetValue(Capability)!, parse.GetValue(Concurrency),
            parse.GetValue(Batch), parse.GetValue(Protocol), parse.GetValue(Token), CertificateValidation: CliOptions.CertificateValidation(parse.GetValue(CaCert))));

    private static async Task<int> RunAsync(OnnxSettings settings, CancellationToken stop)
    {
        using var logging = AgentLifetime.ConsoleLogging();
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(settings.Model, settings.Device, logging.CreateLogger("Aicp.SampleAgents.Onnx"));
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ExitCodes.Failure;
        }

        using (model)
        {
            Console.WriteLine($"serving {model.Name} as {settings.Agent.Capability} on {model.Provider} ({model.DeviceNote})");
            Console.WriteLine($"  inputs:  {string.Join("; ", model.Inputs)}");
            Console.WriteLine($"  outputs: {string.Join("; ", model.Outputs)}");
            Console.WriteLine(settings.Agent.BatchSize > 1
                ? model.BatchesAlongFirstDimension
                    ? $"  batching: up to {settings.Agent.BatchSize} tasks stacked along the first dimension into one run"
                    : "  batching: the model's first dimensions are fixed, so each task of a batch runs alone"
                : "  batching: off (--batch 1)");
            await using var agent = OnnxAgent.Create(settings.Agent, model, logging);
            return await AgentLifetime.RunUntilStoppedAsync([agent], stop, CommandName, settings.Agent.AccessToken is not null);
        }
    }
}
