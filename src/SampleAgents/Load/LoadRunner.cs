using System.Diagnostics;
using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;

namespace Aicp.SampleAgents.Load;

/// <summary>Submits a fixed number of tasks with bounded concurrency and summarizes what came back.</summary>
internal static class LoadRunner
{
    public static async Task<LoadSummary> RunAsync(AicpTaskClient client, string method, int count, int concurrency,
        Func<int, object?> payload, SubmitOptions options, Action<int>? onResult = null, CancellationToken cancellationToken = default,
        Func<int, TaskResult, bool?>? isCorrect = null)
    {
        var summary = new LoadSummary(count);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var sent = Stopwatch.GetTimestamp();
                TaskResult result;
                try
                {
                    result = await client.SubmitAsync(method, payload(i), options, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    result = new TaskResult { Status = "client_error", Error = TaskError.Of("client_error", ex.Message) };
                }

                summary.Record(result, Stopwatch.GetElapsedTime(sent).TotalMilliseconds, isCorrect?.Invoke(i, result));
                onResult?.Invoke(i);
            }
        });
        await Task.WhenAll(workers);
        summary.Elapsed = Stopwatch.GetElapsedTime(started);
        return summary;
    }
}

/// <summary>Counts by status and agent, failovers, and client-side latency percentiles.</summary>
internal sealed class LoadSummary(int total)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _byStatus = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byAgent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Count, string Status, string Message)> _byError = new(StringComparer.Ordinal);
    private readonly List<double> _latencies = new(total);
    private int _failovers;
    private int _judged;
    private int _correct;

    public int Total { get; } = total;

    /// <summary>From the first submission to the last result.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Results per second over <see cref="Elapsed"/>.</summary>
    public double TasksPerSecond => Elapsed > TimeSpan.Zero ? Total / Elapsed.TotalSeconds : 0;

    public int Count(string status)
    {
        lock (_gate)
        {
            return _byStatus.GetValueOrDefault(status);
        }
    }

    public IReadOnlyDictionary<string, int> ByStatus
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, int>(_byStatus, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyDictionary<string, int> PerAgent
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, int>(_byAgent, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Tasks that did not complete, by error code: how many, their status and the first message seen.</summary>
    public IReadOnlyDictionary<string, (int Count, string Status, string Message)> ByError
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, (int, string, string)>(_byError, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Extra attempts beyond the first, summed over all tasks.</summary>
    public int Failovers => Volatile.Read(ref _failovers);

    /// <summary>Share of judged completed results whose answer was right, or null when none was judged.</summary>
    public double? Accuracy
    {
        get
        {
            lock (_gate)
            {
                return _judged == 0 ? null : (double)_correct / _judged;
            }
        }
    }

    public void Record(TaskResult result, double latencyMs, bool? correct = null)
    {
        lock (_gate)
        {
            if (correct is { } c)
            {
                _judged++;
                _correct += c ? 1 : 0;
            }

            _byStatus[result.Status] = _byStatus.GetValueOrDefault(result.Status) + 1;
            if (result.Status == TaskStatuses.Completed && result.AgentId is { } agent)
            {
                _byAgent[agent] = _byAgent.GetValueOrDefault(agent) + 1;
            }
            else if (result.Status != TaskStatuses.Completed)
            {
                var code = result.Error?.Code is { Length: > 0 } errorCode ? errorCode : result.Status;
                _byError[code] = _byError.TryGetValue(code, out var seen)
                    ? (seen.Count + 1, seen.Status, seen.Message)
                    : (1, result.Status, result.Error?.Message ?? "");
            }

            _latencies.Add(latencyMs);
            _failovers += Math.Max(0, result.Attempts - 1);
        }
    }

    /// <summary>The q-quantile (0..1) of client-side latency in ms, nearest rank.</summary>
    public double Percentile(double q)
    {
        lock (_gate)
        {
            if (_latencies.Count == 0)
            {
                return 0;
            }

            var sorted = _latencies.Order().ToArray();
            var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
            return Math.Round(sorted[Math.Clamp(rank, 0, sorted.Length - 1)], 2);
        }
    }

    /// <summary>The shape <c>submit --json</c> prints.</summary>
    public object ToJson() => new
    {
        total = Total,
        completed = Count(TaskStatuses.Completed),
        failed = Count(TaskStatuses.Failed),
        timeout = Count(TaskStatuses.Timeout),
        statuses = ByStatus,
        perAgent = PerAgent,
        errorCodes = ByError.ToDictionary(e => e.Key, e => e.Value.Count, StringComparer.Ordinal),
        failovers = Failovers,
        accuracy = Accuracy is { } a ? Math.Round(a, 4) : (double?)null,
        tasksPerSecond = Math.Round(TasksPerSecond, 1),
        p50Ms = Percentile(0.50),
        p95Ms = Percentile(0.95),
        p99Ms = Percentile(0.99),
    };
}
