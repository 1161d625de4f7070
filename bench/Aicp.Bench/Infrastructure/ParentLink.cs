namespace Aicp.Bench.Infrastructure;

/// <summary>
/// A child role's side of the line protocol: reads commands from stdin ("go"; "measure"; "allocated", answered with the
/// bytes the process allocated so far; "jit", answered with the time the JIT spent compiling so far, in ticks; end of
/// input means the parent is done or gone) and writes protocol lines on stdout.
/// Logs go to stderr.
/// </summary>
internal sealed class ParentLink
{
    private readonly TaskCompletionSource _go = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _measure = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ParentLink()
    {
    }

    /// <summary>Completes when the parent writes "go".</summary>
    public Task Go => _go.Task;

    /// <summary>Completes when the parent writes "measure" (the end of a warm-up that lasts until it is told).</summary>
    public Task Measure => _measure.Task;

    /// <summary>Completes when the parent writes "stop" or closes stdin (it finished or died).</summary>
    public Task Stop => _stop.Task;

    public static ParentLink Listen()
    {
        var link = new ParentLink();
        _ = Task.Run(async () =>
        {
            try
            {
                while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    switch (line.Trim())
                    {
                        case "go":
                            link._go.TrySetResult();
                            break;
                        case "measure":
                            link._measure.TrySetResult();
                            break;
                        case "jit":
                            Send($"jit {System.Runtime.JitInfo.GetCompilationTime().Ticks}");
                            break;
                        case "stop":
                            link._stop.TrySetResult();
                            break;
                        case "allocated":
                            Send($"allocated {GC.GetTotalAllocatedBytes()}");
                            break;
                    }
                }
            }
            catch (Exception)
            {
            }

            link._go.TrySetCanceled();
            link._measure.TrySetCanceled();
            link._stop.TrySetResult();
        });
        return link;
    }

    public static void Send(string line)
    {
        lock (Console.Out)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
