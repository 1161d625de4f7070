using System.Diagnostics.CodeAnalysis;
using Aicp.Agent.Sdk.Agent;
using Aicp.SampleAgents.Labelling;
using Aicp.Agent.Sdk.Connection;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Cli;

/// <summary>Runs agents until the command line's cancellation token fires (Ctrl+C, SIGTERM), then drains them.</summary>
internal static class AgentLifetime
{
    /// <summary>
    /// Starts the agents, runs them until <paramref name="stop"/> fires, then drains them (each within its drain timeout).
    /// A refusal that trying again cannot change (a credential or registration the hub refuses for good) is one line on
    /// stderr and <see cref="ExitCodes.Failure"/>.
    /// </summary>
    public static async Task<int> RunUntilStoppedAsync(IReadOnlyList<AicpAgent> agents, CancellationToken stop, string command, bool tokenGiven)
    {
        try
        {
            await Task.WhenAll(agents.Select(a => a.StartAsync(stop)));
        }
        catch (Exception ex) when (ex is AicpRegistrationRefusedException or AicpConnectionRefusedException)
        {
            await Console.Error.WriteLineAsync(HubRefusals.Describe(ex, command, Aicp.Hub.Security.AicpRoles.Agent, tokenGiven));
            await Task.WhenAll(agents.Select(a => a.StopAsync()));
            return ExitCodes.Failure;
        }

        Console.WriteLine($"{agents.Count} agent(s) registered; Ctrl+C or SIGTERM drains and exits.");
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine($"Draining {agents.Count} agent(s): no new tasks; waiting for {agents.Sum(a => a.RunningCount)} in progress.");
        await Task.WhenAll(agents.Select(a => a.StopAsync()));
        Console.WriteLine("Drained.");
        return ExitCodes.Success;
    }

    /// <summary>
    /// Loads the shipped digit labeller on <paramref name="device"/>; a model that does not load (missing, damaged, or
    /// CUDA asked for and not available) is one line on stderr and false, not a stack trace.
    /// </summary>
    public static bool TryLoadLabeller(string device, ILoggerFactory logging, [NotNullWhen(true)] out DigitLabeller? labeller)
    {
        try
        {
            labeller = DigitLabeller.LoadDefault(device, logging.CreateLogger("Aicp.SampleAgents.Onnx"));
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            labeller = null;
            return false;
        }
    }

    public static ILoggerFactory ConsoleLogging() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft", LogLevel.Warning));

    /// <summary>Warnings and errors on stderr only (connect retries), for commands whose stdout is their result.</summary>
    public static ILoggerFactory ErrorLogging() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(LogLevel.Warning)
        .AddFilter("Microsoft", LogLevel.Error));
}
