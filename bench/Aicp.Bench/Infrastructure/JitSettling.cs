using System.Diagnostics;

namespace Aicp.Bench.Infrastructure;

/// <summary>
/// Waits for the JIT of a set of child processes to settle before a measured window: tiered compilation goes on
/// compiling hot methods again (instrumented, then optimized) for seconds after the first calls, on a background
/// thread, and its CPU would be charged to the calls of the window. Settled means no process spent more than
/// <see cref="QuietPerSecond"/> compiling over the last <see cref="Interval"/>.
/// </summary>
internal static class JitSettling
{
    /// <summary>How often each process's JIT totals are read.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Compiling time per second of wall time below which a process's JIT counts as settled (1% of a core).</summary>
    public static readonly TimeSpan QuietPerSecond = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest wait; the window then starts anyway, and its JIT time is reported with it.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    /// <summary>Every process's JIT compiling time so far, in the order given.</summary>
    public static async Task<TimeSpan[]> ReadAsync(IReadOnlyList<ChildProcess> processes)
    {
        var totals = new TimeSpan[processes.Count];
        for (var i = 0; i < processes.Count; i++)
        {
            totals[i] = await processes[i].JitTimeAsync().ConfigureAwait(false);
        }

        return totals;
    }

    /// <summary>Waits until every process's JIT is quiet, or <paramref name="max"/>; returns the seconds waited.</summary>
    public static async Task<double> WaitAsync(IReadOnlyList<ChildProcess> processes, TimeSpan max)
    {
        var waited = Stopwatch.StartNew();
        var before = await ReadAsync(processes).ConfigureAwait(false);
        while (waited.Elapsed < max)
        {
            var from = waited.Elapsed;
            await Task.Delay(Interval).ConfigureAwait(false);
            var now = await ReadAsync(processes).ConfigureAwait(false);
            var quietBelow = QuietPerSecond * (waited.Elapsed - from).TotalSeconds;
            var quiet = true;
            for (var i = 0; i < now.Length; i++)
            {
                quiet &= now[i] - before[i] < quietBelow;
            }

            if (quiet)
            {
                break;
            }

            before = now;
        }

        return Math.Round(waited.Elapsed.TotalSeconds, 1);
    }
}
