using Aicp.Agent.Sdk.Agent;
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

    public static ILoggerFactory ConsoleLogging() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft", LogLevel.Warning));
}
