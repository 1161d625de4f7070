using System.CommandLine;
using Aicp.Agent.Sdk.Connection;
using Aicp.SampleAgents.Chat;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>chat</c> was asked to serve.</summary>
internal sealed record ChatSettings(string Hub, string Id, int Concurrency, int DelayMs, HubProtocol Protocol, string? Token, string? CaCert = null);

/// <summary>
/// <c>chat --hub URL [...]</c>: one <c>text.chat</c> agent, the demo responder (<see cref="DemoResponder"/>), which the
/// hub's OpenAI door serves as a model; it runs until Ctrl+C or SIGTERM, which drains it.
/// </summary>
internal sealed class ChatCommand : Command
{
    public const string CommandName = "chat";

    public Option<string> Hub { get; } = CliOptions.Hub();

    public Option<string> Id { get; } = CliOptions.AgentId("Agent id, unique per hub (default chat-1)");

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Chats answered at once", 16, 1, 10_000);

    public Option<int> DelayMs { get; } = CliOptions.Int("--delay-ms", "Pause before each streamed word, ms", 0, 0, 10_000, "MS");

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public ChatCommand()
        : base(CommandName, "One text.chat agent: a deterministic demo responder (not a language model) that streams its answer word by word, " +
                            "for the hub's OpenAI-compatible API. Ctrl+C or SIGTERM drains it and exits.")
    {
        Hub.Required = true;
        Id.DefaultValueFactory = _ => "chat-1";
        Option[] options = [Hub, Id, Concurrency, DelayMs, Protocol, Token, CaCert];
        foreach (var option in options)
        {
            Options.Add(option);
        }

        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public ChatSettings Bind(ParseResult parse) => new(
        parse.GetValue(Hub)!, parse.GetValue(Id)!, parse.GetValue(Concurrency), parse.GetValue(DelayMs), parse.GetValue(Protocol), parse.GetValue(Token),
        parse.GetValue(CaCert));

    private static async Task<int> RunAsync(ChatSettings settings, CancellationToken stop)
    {
        using var logging = AgentLifetime.ConsoleLogging();
        Console.WriteLine($"{ChatAgent.Method}: the demo responder (not a language model) as agent {settings.Id}");
        await using var agent = ChatAgent.Create(settings.Hub, settings.Id, settings.Concurrency, TimeSpan.FromMilliseconds(settings.DelayMs), logging,
            settings.Protocol, settings.Token, CliOptions.CertificateValidation(settings.CaCert));
        return await AgentLifetime.RunUntilStoppedAsync([agent], stop, CommandName, settings.Token is not null);
    }
}
