using System.CommandLine;
using Aicp.Agent.Sdk.Connection;
using Aicp.SampleAgents.Labelee;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>swarm</c> was asked to run.</summary>
internal sealed record SwarmSettings(string Hub, int Count, HubProtocol Protocol, string Device, string? Token, string? CaCert = null);

/// <summary><c>swarm --hub URL [--count N]</c>: N labelees with a spread of speeds (every fourth flaky) in one process.</summary>
internal sealed class SwarmCommand : Command
{
    public const string CommandName = "swarm";

    public Option<string> Hub { get; } = CliOptions.Hub();

    public Option<int> Count { get; } = CliOptions.Int("--count", "Number of labelees", 3, 1, 1_000);

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<string> Device { get; } = CliOptions.Device();

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public SwarmCommand()
        : base(CommandName, "N labelees with different speeds and reliabilities in one process. Ctrl+C or SIGTERM drains them and exits.")
    {
        Hub.Required = true;
        Options.Add(Hub);
        Options.Add(Count);
        Options.Add(Protocol);
        Options.Add(Device);
        Options.Add(Token);
        Options.Add(CaCert);
        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public SwarmSettings Bind(ParseResult parse) =>
        new(parse.GetValue(Hub)!, parse.GetValue(Count), parse.GetValue(Protocol), parse.GetValue(Device)!, parse.GetValue(Token), parse.GetValue(CaCert));

    private static async Task<int> RunAsync(SwarmSettings settings, CancellationToken stop)
    {
        using var logging = AgentLifetime.ConsoleLogging();
        if (!AgentLifetime.TryLoadLabeller(settings.Device, logging, out var loaded))
        {
            return ExitCodes.Failure;
        }

        using var labeller = loaded;
        Console.WriteLine($"labeller: {labeller.Description}; {labeller.Model.DeviceNote}");
        var certificateValidation = CliOptions.CertificateValidation(settings.CaCert);
        var agents = LabeleeProfile.Swarm(settings.Count)
            .Select(p => LabeleeAgent.Create(settings.Hub, p, labeller, logging, settings.Protocol, accessToken: settings.Token, certificateValidation: certificateValidation))
            .ToList();
        try
        {
            return await AgentLifetime.RunUntilStoppedAsync(agents, stop, CommandName, settings.Token is not null);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }
}
