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
    /// A child-process role (<c>*-proc</c>): hidden from the help, and given the tokens after its name unchanged,
    /// in order, as the benchmark that starts it wrote them; the role reads them itself.
    /// </summary>
    public static Command Role(string name, Func<string[], Task<int>> run)
    {
        var tokens = new Argument<string[]>("arguments") { Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(name) { Hidden = true, TreatUnmatchedTokensAsErrors = false };
        command.Arguments.Add(tokens);
        command.SetAction((parse, _) => run(parse.GetValue(tokens) ?? []));
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
