using System.Diagnostics.CodeAnalysis;
using Aicp.Agent.Sdk.Agent;
using Aicp.SampleAgents.Labelling;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Cli;

/// <summary>Runs agents until the command line's cancellation token fires (Ctrl+C, SIGTERM), then drains them.</summary>
internal static class AgentLifetime
{
    public static async Task RunUntilStoppedAsync(IReadOnlyList<AicpAgent> agents, CancellationToken stop)
    {
        await Task.WhenAll(agents.Select(a => a.StartAsync(stop)));
        Console.WriteLine($"{agents.Count} agent(s) registered; Ctrl+C drains and exits.");
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(agents.Select(a => a.StopAsync()));
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
}
