using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>A real Prometheus server on loopback scrapes a test hub; the test asserts through Prometheus' query API.</summary>
public sealed class PrometheusScrapeTests
{
    /// <summary>Prometheus scrapes for the first time about 9 s after it starts here; allow for a slow machine.</summary>
    private static readonly TimeSpan ScrapeWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PrometheusScrape_CompletedTasks_QueryEqualsTasksCompleted()
    {
        var prometheusPath = ExternalTool.Prometheus;
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("p1", HubHarness.Echo("p1"));
        await h.StartAgentAsync("p2", HubHarness.Echo("p2"));
        var client = await h.StartClientAsync();
        const int Tasks = 37;
        var results = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(i => client.SubmitAsync("image.label", new { i }))).DefaultTimeout();
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));

        var dir = Directory.CreateTempSubdirectory("aicp-prometheus-");
        var port = FreeLoopbackPort();
        var config = Path.Combine(dir.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: aicp-hub-test
                metrics_path: /metrics
                static_configs:
                  - targets: ["{h.Hub.BaseUrl.Authority}"]
            """);
        var log = new StringBuilder();
        using var prometheus = StartPrometheus(prometheusPath, config, port, Path.Combine(dir.FullName, "data"), log);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };

            var health = await PollAsync(async () =>
            {
                using var targets = JsonDocument.Parse(await http.GetStringAsync("/api/v1/targets"));
                var active = targets.RootElement.GetProperty("data").GetProperty("activeTargets");
                return active.GetArrayLength() == 1 && active[0].GetProperty("health").GetString() == "up" ? "up" : null;
            }, "Prometheus to scrape the hub successfully", prometheus, log);
            Assert.Equal("up", health);

            var completed = await PollAsync(async () =>
            {
                var value = await QueryAsync(http, "sum(aicp_tasks_completed_total{status=\"completed\"})");
                return value == Tasks ? value : null;
            }, $"sum(aicp_tasks_completed_total{{status=\"completed\"}}) == {Tasks}", prometheus, log);
            Assert.Equal(Tasks, completed);

            Assert.Equal(2, await QueryAsync(http, "aicp_agents_connected"));
            // Counters exist at 0 before their first event, so rate() and absent() work from the first scrape.
            Assert.Equal(0, await QueryAsync(http, "sum(aicp_failovers_total)"));
            Assert.Equal(0, await QueryAsync(http, "aicp_late_completions_total"));
            Assert.Equal(Tasks, await QueryAsync(http, "sum(aicp_task_attempts_total{method=\"image.label\",outcome=\"completed\"})"));
            Assert.Equal(Tasks, await QueryAsync(http, "sum(aicp_task_duration_seconds_count{method=\"image.label\",status=\"completed\"})"));
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }

            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task PrometheusScrape_DeployConfigAgainstSecuredHub_SendsTheMetricsKey()
    {
        var prometheusPath = ExternalTool.Prometheus;
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        // deploy/prometheus as shipped, pointed at the test hub, with the test's metrics key in the credentials file it
        // names; plus a job without the credential, which the hub must refuse.
        var deploy = Path.Combine(ExternalTool.RepositoryRoot, "deploy", "prometheus");
        var dir = Directory.CreateTempSubdirectory("aicp-prometheus-");
        File.Copy(Path.Combine(deploy, "alerts.yml"), Path.Combine(dir.FullName, "alerts.yml"));
        Directory.CreateDirectory(Path.Combine(dir.FullName, "secrets"));
        await File.WriteAllTextAsync(Path.Combine(dir.FullName, "secrets", "hub-metrics-key"), TestCredentials.MetricsKey + "\n");
        var shipped = await File.ReadAllTextAsync(Path.Combine(deploy, "prometheus.yml"));
        Assert.Contains("credentials_file: secrets/hub-metrics-key", shipped);
        var config = Path.Combine(dir.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, shipped
            .Replace("scrape_interval: 5s", "scrape_interval: 1s", StringComparison.Ordinal)
            .Replace("\"hub:5000\"", $"\"{h.Hub.BaseUrl.Authority}\"", StringComparison.Ordinal) + $"""

              - job_name: aicp-hub-without-key
                metrics_path: /metrics
                static_configs:
                  - targets: ["{h.Hub.BaseUrl.Authority}"]
            """);
        var port = FreeLoopbackPort();
        var log = new StringBuilder();
        using var prometheus = StartPrometheus(prometheusPath, config, port, Path.Combine(dir.FullName, "data"), log);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };

            var targets = await PollAsync(async () =>
            {
                using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/targets"));
                var active = doc.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                    .ToDictionary(t => t.GetProperty("labels").GetProperty("job").GetString()!,
                        t => (Health: t.GetProperty("health").GetString(), Error: t.GetProperty("lastError").GetString()));
                return active.Count == 2 && active.Values.All(t => t.Health != "unknown") ? active : null;
            }, "Prometheus to scrape both jobs", prometheus, log);

            Assert.Equal("up", targets["aicp-hub"].Health);
            Assert.Equal("down", targets["aicp-hub-without-key"].Health);
            Assert.Contains("401", targets["aicp-hub-without-key"].Error);
            Assert.Equal(0, await QueryAsync(http, "aicp_security_events_total{job=\"aicp-hub\",kind=\"key_revoked\"}"));
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }

            dir.Delete(recursive: true);
        }
    }

    private static Process StartPrometheus(string path, string config, int port, string data, StringBuilder log)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { $"--config.file={config}", $"--web.listen-address=127.0.0.1:{port}", $"--storage.tsdb.path={data}" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>One instant-vector query; null when it has no sample yet.</summary>
    private static async Task<double?> QueryAsync(HttpClient http, string query)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query)));
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Polls until <paramref name="probe"/> returns a value, within <see cref="ScrapeWait"/>; connection errors count as not yet.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T?>> probe, string what, Process prometheus, StringBuilder log)
    {
        var deadline = Stopwatch.StartNew();
        Exception? lastError = null;
        while (deadline.Elapsed < ScrapeWait)
        {
            if (prometheus.HasExited)
            {
                Assert.Fail($"prometheus exited with {prometheus.ExitCode} while waiting for {what}:\n{log}");
            }

            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                lastError = ex; // not listening yet
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Timed out after {ScrapeWait} waiting for {what} (last error: {lastError?.Message}):\n{log}");
        return default!;
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
