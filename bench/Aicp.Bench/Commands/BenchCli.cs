using System.CommandLine;

namespace Aicp.Bench.Commands;

/// <summary>
/// Runs the benchmark command line (System.CommandLine). Exit codes: the command's own (0 success, 1 a target or
/// check failed), 1 when a command throws (one line on stderr: its children are already stopped by their
/// <c>await using</c>, and the exit-time hook of <c>ChildProcess</c> catches any left), 2 when the command line does
/// not parse. Ctrl+C is left to the runtime as before: the process ends and the hook kills the children.
/// </summary>
internal static class BenchCli
{
    /// <summary>
    /// A server child-process role (<c>hub-proc</c>, <c>echo-hub-proc</c>): hidden from the help, no options. The client
    /// roles declare theirs (<c>AgentsRole.Create</c>, <c>LoadRole.Create</c>).
    /// </summary>
    public static Command Role(string name, Func<Task<int>> run)
    {
        var command = new Command(name) { Hidden = true };
        command.SetAction((_, _) => run());
        return command;
    }

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        try
        {
            var exitCode = await parse.InvokeAsync(invocation);
            return parse.Errors.Count > 0 ? 2 : exitCode;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"{parse.CommandResult.Command.Name} failed: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
    }
}
