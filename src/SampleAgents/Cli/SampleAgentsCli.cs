using System.CommandLine;
using Aicp.SampleAgents.Demo;
using Aicp.SampleAgents.Labelling;

namespace Aicp.SampleAgents.Cli;

/// <summary>
/// The command line of the sample agents, on System.CommandLine: parsing, help (<c>--help</c> on every command),
/// errors, and Ctrl+C/SIGTERM, which cancel the token a command runs with. Agents drain on it (no time limit, as
/// the drain itself is bounded by the tasks in progress); offline commands (train, evaluate) simply end.
/// </summary>
internal static class SampleAgentsCli
{
    /// <summary>Every command, in the order the help lists them.</summary>
    public static RootCommand CreateRootCommand() => new("AICP sample agents: the digit labeller and any ONNX model as agents, a chat demo responder, a load generator, " +
                                                         "an all-in-one demo and the trainer. labelee, chat, onnx, swarm and submit take --token KEY " +
                                                         "when the hub requires an API key or JWT.")
    {
        new DemoCommand(),
        new LabeleeCommand(),
        new ChatCommand(),
        new OnnxCommand(),
        new SwarmCommand(),
        new SubmitCommand(),
        new TrainCommand(),
        new EvaluateCommand(),
        new ExportSampleCommand(),
    };

    /// <summary>Parses a command line against <see cref="CreateRootCommand"/>.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) =>
        // No response files: a value such as an API key may begin with '@'.
        CreateRootCommand().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>
    /// Parses <paramref name="args"/> and runs the command. Returns its exit code, <see cref="ExitCodes.Usage"/> for a
    /// command line that does not parse (the errors and the command's help are printed), or
    /// <see cref="ExitCodes.Interrupted"/> when Ctrl+C or SIGTERM cut a command short.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var parse = Parse(args);
        var invocation = new InvocationConfiguration
        {
            // Ctrl+C and SIGTERM cancel the command's token and wait for it to finish, however long the drain takes.
            ProcessTerminationTimeout = Timeout.InfiniteTimeSpan,
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
        };
        var exitCode = await parse.InvokeAsync(invocation);
        return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
    }
}
