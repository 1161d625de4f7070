using System.Diagnostics;
using System.Text;

namespace Aicp.Tests.Infrastructure;

/// <summary>Finds and runs tools the tests need from the machine (promtool, prometheus). A missing tool fails the test.</summary>
public static class ExternalTool
{
    /// <summary>The tool's full path; fails the test with an install hint when it is not on PATH.</summary>
    public static string Require(string name, string installHint)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"'{name}' is not installed, and this test needs it: {installHint} (.ci/run installs it).");
        return null!;
    }

    public static string Promtool => Require("promtool", "apt-get install -y --no-install-recommends prometheus");

    public static string Prometheus => Require("prometheus", "apt-get install -y --no-install-recommends prometheus");

    /// <summary>The repository root (where Aicp.sln lives).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aicp.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Aicp.sln not found above the test binaries.");
        }
    }

    /// <summary>Runs a tool to completion within the default timeout; returns its exit code and stdout+stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string path, IEnumerable<string> args, string? stdin = null)
    {
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().DefaultTimeout();
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
