using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A submitter that keeps sending ordinary tasks while a test attacks the hub, and records every result that is
/// not <c>completed</c>: what the hub's other users would have seen.
/// </summary>
public sealed class WellBehavedSubmitter
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _failures = [];
    private readonly Task _loop;
    private int _results;

    public WellBehavedSubmitter(AicpTaskClient client, string method)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await client.SubmitAsync(method, new { ok = true }).DefaultTimeout();
                if (result.Status != TaskStatuses.Completed)
                {
                    _failures.Add($"{result.Status} {result.Error?.Code} {result.Error?.Message}");
                }

                _results++;
                await Task.Delay(1); // a steady, modest rate alongside the traffic under test
            }
        });
    }

    /// <summary>Results received, whatever their status.</summary>
    public int Results => _results;

    /// <summary>Every result that was not <c>completed</c>.</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Stops after the task in flight and waits for it (bounded).</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await _loop.DefaultTimeout();
        _stop.Dispose();
    }
}
