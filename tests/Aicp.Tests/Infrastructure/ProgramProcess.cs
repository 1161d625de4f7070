using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// One of the repository's own programs (the hub, the sample agents) run as a process, as a user runs it: the build
/// output next to this test's (same configuration), started with <c>dotnet program.dll</c>, its stdout and stderr
/// captured line by line. Disposing kills it if it still runs.
/// </summary>
public sealed class ProgramProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _outputChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProgramProcess(Process process) => _process = process;

    /// <summary>The hub's build (src/Hub).</summary>
    public static string Hub => BuiltDll("src/Hub", "Aicp.Hub.dll");

    /// <summary>The sample agents' build (src/SampleAgents).</summary>
    public static string SampleAgents => BuiltDll("src/SampleAgents", "Aicp.SampleAgents.dll");

    private int _disposed;

    public int Id => _process.Id;

    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>stdout, then stderr.</summary>
    public string Output => StandardOutput + StandardError;

    /// <summary>Starts <paramref name="dll"/> with <paramref name="args"/>; stdin is closed (not a terminal, as in CI).</summary>
    public static ProgramProcess Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = ExternalTool.RepositoryRoot,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ProgramProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(child._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(child._stderr, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs <paramref name="dll"/> to its end (bounded) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(string dll, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? within = null)
    {
        await using var process = Start(dll, args, environment);
        var exitCode = await process.WaitForExitAsync(within);
        return (exitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>Waits (bounded) until the output holds <paramref name="text"/>; fails the test with the output otherwise.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TestTimeouts.Default);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_stdout.ToString().Contains(text, StringComparison.Ordinal) || _stderr.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                changed = _outputChanged.Task;
            }

            if (_process.HasExited && changed.IsCompleted is false)
            {
                await _process.WaitForExitAsync(); // the last lines arrive before this completes
                lock (_gate)
                {
                    if (_stdout.ToString().Contains(text, StringComparison.Ordinal) || _stderr.ToString().Contains(text, StringComparison.Ordinal))
                    {
                        return;
                    }
                }

                Assert.Fail($"The program exited ({_process.ExitCode}) without printing '{text}'. Output:\n{Output}");
            }

            try
            {
                await Task.WhenAny(changed, Task.Delay(Timeout.Infinite, timeout.Token), _process.WaitForExitAsync(timeout.Token));
            }
            catch (OperationCanceledException)
            {
            }

            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for '{text}'. Output:\n{Output}");
            }
        }
    }

    /// <summary>Sends a POSIX signal (SIGTERM, as <c>docker stop</c> and Kubernetes do; SIGINT, as Ctrl+C does).</summary>
    public void Signal(PosixSignal signal)
    {
        var number = signal switch
        {
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGINT => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "SIGTERM or SIGINT"),
        };
        Assert.Equal(0, Kill(_process.Id, number));
    }

    /// <summary>Waits (bounded) for the program to end; returns its exit code, or fails the test with its output.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? within = null)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(within ?? TestTimeouts.Default);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"The program did not exit in time. Output:\n{Output}");
        }

        _process.WaitForExit(); // flushes the redirected output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // killed already
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        }

        _process.Dispose();
    }

    private void Append(StringBuilder to, string? line)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource changed;
        lock (_gate)
        {
            to.AppendLine(line);
            changed = _outputChanged;
            _outputChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>src/&lt;project&gt;/bin/&lt;this test's configuration&gt;/net10.0/&lt;dll&gt;: built with the tests (project references).</summary>
    private static string BuiltDll(string project, string dll)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(ExternalTool.RepositoryRoot, project, "bin", framework.Parent!.Name, framework.Name, dll);
        Assert.True(File.Exists(path), $"{path} is not built (the test project references it, so building the tests builds it).");
        return path;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
