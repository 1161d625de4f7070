namespace Aicp.SampleAgents.Cli;

/// <summary>The program's exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>
    /// The command ran and failed: the hub refused the credential or the registration, no submitted task completed, the
    /// hub could not be reached in time, or the MNIST data or a weights file is missing or corrupt.
    /// </summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: an unknown command or option, a missing or out-of-range value.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM before the command finished (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// Awaits a command that runs until <paramref name="stop"/> (Ctrl+C, SIGTERM): a cancellation caused by it is
    /// <see cref="Interrupted"/>; any other exception is left to System.CommandLine (printed, exit code 1).
    /// </summary>
    public static async Task<int> OrInterrupted(Task<int> command, CancellationToken stop)
    {
        try
        {
            return await command;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Interrupted;
        }
    }

    /// <summary>
    /// Runs an offline command (train, evaluate): missing or corrupt files are <see cref="Failure"/> and bad
    /// settings found while running (e.g. a batch larger than the data) are <see cref="Usage"/>, each with one line on
    /// stderr instead of a stack trace.
    /// </summary>
    public static int ReportingFileErrors(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException or InvalidDataException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ex is ArgumentException ? Usage : Failure;
        }
    }
}
