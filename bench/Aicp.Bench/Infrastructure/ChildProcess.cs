using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;

namespace Aicp.Bench.Infrastructure;

/// <summary>
/// A child process running another role of this same bench binary. Talks over lines: the child writes
/// protocol lines ("ready ...", "result {json}") on stdout and logs on stderr (forwarded, prefixed);
/// the parent writes commands ("go", "stop") on the child's stdin. Closing stdin (or the parent dying)
/// makes the child exit. <see cref="DisposeAsync"/> kills the child if it is still running.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly List<ChildProcess> Live = [];
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly string _name;
    private StreamWriter? _log;

    static ChildProcess()
    {
        // Whatever way the orchestrator ends (exception, Ctrl+C), no child outlives it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private ChildProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>Aicp.Bench role args...</c> as a child process.</summary>
    public static ChildProcess Start(string role, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("The bench's own executable path is unknown.");
        info.FileName = exe;
        if (string.Equals(Path.GetFileNameWithoutExtension(exe), "dotnet", StringComparison.Ordinal))
        {
            // Started as `dotnet Aicp.Bench.dll`: do the same for the child.
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        info.ArgumentList.Add(role);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_TieredPGO"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        return Launch(info, role);
    }

    /// <summary>
    /// Starts <c>dotnet dll args...</c>: another program of this repository (the hub), from its build output that this
    /// bench's project reference copies next to it, with that directory as its working directory (its appsettings.json).
    /// </summary>
    public static ChildProcess StartProgram(string dll, IEnumerable<string> args, string? logPath = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, dll);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is not built (the bench's project reference copies it there).");
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        return Launch(info, Path.GetFileNameWithoutExtension(dll), logPath);
    }

    /// <param name="logPath">When given, every line the child writes (stdout and stderr) is also appended to this file.</param>
    private static ChildProcess Launch(ProcessStartInfo info, string role, string? logPath = null)
    {
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {role}.");
        var child = new ChildProcess(process, role);
        if (logPath is not null)
        {
            child._log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        }
        lock (Live)
        {
            Live.Add(child);
        }

        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._lines.Writer.TryComplete();
            }
            else
            {
                child.Log(e.Data);
                child._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.Log(e.Data);
                Console.Error.WriteLine($"[{role} {process.Id}] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Log(string line)
    {
        if (_log is { } log)
        {
            lock (log)
            {
                log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
        }
    }

    /// <summary>Waits for the next stdout line starting with <paramref name="prefix"/> and returns the rest of it.</summary>
    public async Task<string> ExpectAsync(string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line[prefix.Length..].Trim();
                }

                Console.Error.WriteLine($"[{_name} {Pid}] (stdout) {line}");
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_name} (pid {Pid}) did not print '{prefix}' within {timeout.TotalSeconds:0} s.");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"{_name} (pid {Pid}) exited before printing '{prefix}' (exit code {SafeExitCode()}).");
        }
    }

    /// <summary>The bytes the child (a role on <see cref="ParentLink"/>) allocated on its managed heap so far.</summary>
    public async Task<long> AllocatedBytesAsync()
    {
        await SendAsync("allocated").ConfigureAwait(false);
        return long.Parse(await ExpectAsync("allocated ", TimeSpan.FromSeconds(30)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The time the child's JIT spent compiling so far (<see cref="System.Runtime.JitInfo.GetCompilationTime"/>).</summary>
    public async Task<TimeSpan> JitTimeAsync()
    {
        await SendAsync("jit").ConfigureAwait(false);
        return TimeSpan.FromTicks(long.Parse(await ExpectAsync("jit ", TimeSpan.FromSeconds(30)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Asks the child to stop (closes its stdin), waits up to <paramref name="grace"/>, then kills it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (Exception)
        {
        }

        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Kills the process (SIGKILL on Linux: no shutdown code runs) and waits until it is gone.</summary>
    public ValueTask DisposeAsync()
    {
        Kill();
        lock (Live)
        {
            Live.Remove(this);
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (Exception)
        {
        }
    }

    private string SafeExitCode()
    {
        try
        {
            return _process.WaitForExit(2000) ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "still running";
        }
        catch (Exception)
        {
            return "unknown";
        }
    }

    private static void KillAll()
    {
        ChildProcess[] all;
        lock (Live)
        {
            all = [.. Live];
        }

        foreach (var child in all)
        {
            child.Kill();
        }
    }
}
