using System.Collections.Concurrent;
using System.Diagnostics;

namespace Aicp.Tests.Infrastructure;

/// <summary>Runs tests/interop/client.mjs (the official SignalR JavaScript client) and collects its output lines.</summary>
public sealed class NodeClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _errors = new();

    private NodeClient(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.CompleteAdding();
            }
            else
            {
                _lines.Add(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string InteropDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aicp.sln")))
                {
                    var interop = Path.Combine(dir.FullName, "tests", "interop");
                    if (!Directory.Exists(Path.Combine(interop, "node_modules", "@microsoft", "signalr-protocol-msgpack")))
                    {
                        Assert.Fail("The JavaScript SignalR client is not installed: run scripts/setup-npm.sh (scripts/test.sh does).");
                    }

                    return interop;
                }
            }

            throw new InvalidOperationException("Aicp.sln not found above the test binaries.");
        }
    }

    public static NodeClient Start(params string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("client.mjs");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new NodeClient(Process.Start(info)!);
    }

    /// <summary>The next stdout line, within the default test timeout; fails with stderr when the process ends first.</summary>
    public async Task<string> ReadLineAsync()
    {
        var line = await Task.Run(() =>
        {
            _lines.TryTake(out var next, TestTimeouts.Default);
            return next;
        });
        return line ?? throw new Xunit.Sdk.XunitException($"node ended or timed out without output; stderr: {string.Join("\n", _errors)}");
    }

    /// <summary>Reads lines until one equals <paramref name="terminator"/>; returns the lines before it.</summary>
    public async Task<List<string>> ReadUntilAsync(string terminator)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line == terminator)
            {
                return lines;
            }

            lines.Add(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // agents exit when stdin closes
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
