using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Telemetry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>A handler: gets the assignment, returns the result as JSON, or throws to report an error.</summary>
public delegate ValueTask<JsonElement> AgentHandler(AgentTaskContext task, CancellationToken cancellationToken);

/// <summary>
/// An agent: connects to the hub (retrying forever), registers its capabilities (again after every
/// reconnect), runs at most <see cref="AgentOptions.MaxConcurrency"/> handlers at once, cancels a handler
/// when the hub sends Cancel, and on <see cref="StopAsync"/> drains: no new tasks, in-flight ones finish.
/// </summary>
public sealed partial class AicpAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly Dictionary<string, AgentHandler> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly ResilientHubConnection _connection;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _stopReporting = new();
    private readonly List<BatchCollector> _batchers = [];
    private readonly NvmlGpuTelemetry? _gpu;
    private readonly bool _messagePackWire;
    private Task? _reporting;
    private int _started;
    private long _completed;
    private long _failed;

    public AicpAgent(AgentOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Names.IsValid(options.AgentId))
        {
            throw new ArgumentException($"AgentId '{options.AgentId}' does not match ^[a-z0-9][a-z0-9._-]{{0,127}}$.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrency, 1, nameof(options.MaxConcurrency));
        _options = options;
        _messagePackWire = options.Protocol == HubProtocols.MessagePack;
        _logger = (ILogger?)loggerFactory?.CreateLogger<AicpAgent>() ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _gpu = options.ReportGpuTelemetry ? NvmlGpuTelemetry.TryOpen() : null;
        _connection = new ResilientHubConnection(options, ConfigureHandlers, RegisterAsync, loggerFactory);
    }

    public string AgentId => _options.AgentId;

    /// <summary>Handlers running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Tasks this agent completed successfully since it started.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>Tasks this agent reported as failed since it started.</summary>
    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>Whether the agent is connected and registered.</summary>
    public bool IsRegistered => _connection.IsConnected;

    /// <summary>Completes when the agent is connected and registered (again after each reconnect).</summary>
    public Task Registered => _connection.Ready;

    /// <summary>The hub's answer to the latest registration.</summary>
    public RegistrationAck? LastRegistration { get; private set; }

    /// <summary>Raised when a registration is acknowledged (first connect and every reconnect).</summary>
    public event Action<RegistrationAck>? RegistrationAccepted;

    /// <summary>Serves <paramref name="method"/> with a raw JSON handler. Call before <see cref="StartAsync"/>.</summary>
    public AicpAgent Handle(string method, AgentHandler handler)
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("Handlers are added before the agent starts.");
        }

        if (!Names.IsValid(method))
        {
            throw new ArgumentException($"Method '{method}' does not match ^[a-z0-9][a-z0-9._-]{{0,127}}$.", nameof(method));
        }

        _handlers[method] = handler ?? throw new ArgumentNullException(nameof(handler));
        return this;
    }

    /// <summary>Serves <paramref name="method"/> with a typed handler; payload and result bind with <see cref="AgentJson.Options"/>.</summary>
    public AicpAgent Handle<TRequest, TResponse>(string method, Func<TRequest, AgentTaskContext, CancellationToken, ValueTask<TResponse>> handler) =>
        Handle(method, async (task, ct) =>
        {
            TRequest request;
            try
            {
                request = task.PayloadAs<TRequest>()!;
            }
            catch (JsonException ex)
            {
                throw new AgentTaskException("invalid_payload", $"The payload does not bind to {typeof(TRequest).Name}: {ex.Message}");
            }

            var response = await handler(request, task, ct).ConfigureAwait(false);
            if (_messagePackWire)
            {
                task.SetResult(response); // byte buffers in the response travel as bin
                return default;
            }

            return JsonSerializer.SerializeToElement(response, AgentJson.Options);
        });

    /// <summary>
    /// Serves <paramref name="method"/> in batches: concurrent tasks are gathered into one handler call
    /// (see <see cref="BatchOptions"/>), and each task completes with its own result or error.
    /// </summary>
    public AicpAgent HandleBatch(string method, BatchHandler handler, BatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var collector = new BatchCollector(handler, options ?? new BatchOptions());
        _batchers.Add(collector);
        return Handle(method, collector.RunAsync);
    }

    /// <summary>Connects and registers, retrying until it succeeds or <paramref name="cancellationToken"/> fires.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_handlers.Count == 0)
        {
            throw new InvalidOperationException("Add at least one handler before starting the agent.");
        }

        if (Interlocked.Exchange(ref _started, 1) == 0 && _options.LoadReportInterval > TimeSpan.Zero)
        {
            _reporting = Task.Run(ReportLoadPeriodicallyAsync);
        }

        return _connection.StartAsync(cancellationToken);
    }

    /// <summary>GPUs this agent can see (empty without an NVIDIA driver).</summary>
    public IReadOnlyList<GpuTelemetry> ReadGpus() => _gpu?.Read() ?? [];

    /// <summary>The agent's load as it would report it now: tasks waiting for a slot, free slots, GPU readings.</summary>
    public AgentLoadReport CurrentLoad()
    {
        var free = _slots.CurrentCount;
        var busy = _options.MaxConcurrency - free;
        var report = new AgentLoadReport
        {
            QueueDepth = Math.Max(0, _running.Count - busy),
            FreeSlots = free,
            Gpus = _gpu is null ? null : ReadGpus(),
        };
        return _options.LoadReportFilter?.Invoke(report) ?? report;
    }

    /// <summary>Sends a load report now (the current load when <paramref name="report"/> is null). False when not connected.</summary>
    public async Task<bool> ReportLoadAsync(AgentLoadReport? report = null, CancellationToken cancellationToken = default)
    {
        if (!_connection.IsConnected)
        {
            return false;
        }

        return await _connection.Connection.InvokeAsync<bool>(HubMethods.ReportLoad, report ?? CurrentLoad(), cancellationToken).ConfigureAwait(false);
    }

    private async Task ReportLoadPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(_options.LoadReportInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopReporting.Token).ConfigureAwait(false))
            {
                try
                {
                    await ReportLoadAsync(cancellationToken: _stopReporting.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogLoadReportFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Graceful stop: asks the hub for no new tasks, waits for in-flight handlers (up to the drain timeout), disconnects.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_connection.IsConnected)
        {
            try
            {
                await _connection.Connection.InvokeAsync<bool>(HubMethods.Drain, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogDrainFailed(_logger, ex.Message);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DrainTimeout);
        try
        {
            while (!_running.IsEmpty)
            {
                await Task.WhenAll(_running.Values.Select(r => r.Done)).WaitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var running in _running.Values)
            {
                running.Cancellation.Cancel();
            }
        }

        await _connection.StopAsync().ConfigureAwait(false);
        await StopReportingAsync().ConfigureAwait(false);
    }

    private async Task StopReportingAsync()
    {
        if (!_stopReporting.IsCancellationRequested)
        {
            _stopReporting.Cancel();
        }

        if (_reporting is { } reporting)
        {
            await reporting.ConfigureAwait(false);
        }
    }

    /// <summary>Stops at once, as a crash would: the socket is dropped without a close handshake, handlers are cancelled and nothing more is reported.</summary>
    public async Task AbortAsync()
    {
        _aborted.Cancel();
        foreach (var running in _running.Values)
        {
            running.Cancellation.Cancel();
        }

        await _connection.AbortAsync().ConfigureAwait(false);
        await StopReportingAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await StopReportingAsync().ConfigureAwait(false);
        _gpu?.Dispose();
        foreach (var batcher in _batchers)
        {
            await batcher.DisposeAsync().ConfigureAwait(false);
        }

        _aborted.Dispose();
        _stopReporting.Dispose();
    }

    private void ConfigureHandlers(HubConnection connection)
    {
        connection.On<TaskAssignment>(HubMethods.Execute, OnExecute);
        connection.On<string>(HubMethods.Cancel, OnCancel);
    }

    private async Task RegisterAsync(HubConnection connection, CancellationToken cancellationToken)
    {
        var ack = await connection.InvokeAsync<RegistrationAck>(HubMethods.Register, new AgentRegistration
        {
            AgentId = _options.AgentId,
            Capabilities = [.. _handlers.Keys],
            MaxConcurrency = _options.MaxConcurrency,
            Metadata = RegistrationMetadata(),
        }, cancellationToken).ConfigureAwait(false);
        LastRegistration = ack;
        if (!ack.Accepted)
        {
            throw new InvalidOperationException($"The hub refused the registration: {ack.Error?.Code} {ack.Error?.Message}");
        }

        LogRegistered(_logger, ack.AgentId, string.Join(",", ack.Capabilities));
        RegistrationAccepted?.Invoke(ack);
    }

    private Dictionary<string, string> RegistrationMetadata()
    {
        var metadata = new Dictionary<string, string>(_options.Metadata);
        var gpus = ReadGpus();
        if (gpus.Count > 0)
        {
            metadata["gpu.count"] = gpus.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var gpu in gpus)
            {
                metadata[$"gpu.{gpu.Index}.name"] = gpu.Name;
                metadata[$"gpu.{gpu.Index}.memoryTotalBytes"] = gpu.MemoryTotalBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return metadata;
    }

    private void OnExecute(TaskAssignment assignment)
    {
        // Runs off the receive loop: the hub's next message must not wait for this handler.
        var running = new Running();
        if (!_running.TryAdd(assignment.TaskId, running))
        {
            return; // a duplicate delivery of a task already running here
        }

        _ = Task.Run(() => RunAsync(assignment, running));
    }

    private void OnCancel(string taskId)
    {
        if (_running.TryGetValue(taskId, out var running))
        {
            running.Cancellation.Cancel();
        }
    }

    private async Task RunAsync(TaskAssignment assignment, Running running)
    {
        TaskCompletion completion;
        var acquired = false;
        try
        {
            await _slots.WaitAsync(running.Cancellation.Token).ConfigureAwait(false);
            acquired = true;
            if (!_handlers.TryGetValue(assignment.Method, out var handler))
            {
                throw new AgentTaskException(ErrorCodes.HandlerNotFound, $"This agent has no handler for '{assignment.Method}'.");
            }

            var context = new AgentTaskContext(assignment, _messagePackWire);
            var result = await handler(context, running.Cancellation.Token).ConfigureAwait(false);
            completion = new TaskCompletion
            {
                TaskId = assignment.TaskId, Attempt = assignment.Attempt, Ok = true,
                Result = context.Result ?? (result.ValueKind == JsonValueKind.Undefined ? null : TaskPayload.FromJson(result)),
            };
            Interlocked.Increment(ref _completed);
        }
        catch (OperationCanceledException) when (running.Cancellation.IsCancellationRequested)
        {
            running.Finish(_running, assignment.TaskId);
            return; // the hub abandoned the task; it expects nothing back
        }
        catch (AgentTaskException ex)
        {
            completion = Failure(assignment, ex.Code, ex.Message);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, assignment.TaskId, assignment.Method);
            completion = Failure(assignment, ErrorCodes.HandlerException, ex.Message);
        }
        finally
        {
            if (acquired)
            {
                _slots.Release();
            }
        }

        try
        {
            if (!_aborted.IsCancellationRequested)
            {
                await _connection.Connection.SendAsync(HubMethods.Complete, completion).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The hub fails the attempt over when the connection is gone; nothing to retry here.
            LogCompleteFailed(_logger, assignment.TaskId, ex.Message);
        }
        finally
        {
            running.Finish(_running, assignment.TaskId);
        }
    }

    private TaskCompletion Failure(TaskAssignment assignment, string code, string message)
    {
        Interlocked.Increment(ref _failed);
        return new TaskCompletion { TaskId = assignment.TaskId, Attempt = assignment.Attempt, Ok = false, Error = TaskError.Of(code, message) };
    }

    private sealed class Running
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Cancellation { get; } = new();

        /// <summary>Completes after the task left the running table.</summary>
        public Task Done => _done.Task;

        public void Finish(ConcurrentDictionary<string, Running> table, string taskId)
        {
            table.TryRemove(new KeyValuePair<string, Running>(taskId, this));
            _done.TrySetResult();
        }
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Registered as {AgentId}: {Capabilities}")]
    private static partial void LogRegistered(ILogger logger, string agentId, string capabilities);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Handler for task {TaskId} ({Method}) threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string taskId, string method);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "Completion of task {TaskId} not sent: {Reason}")]
    private static partial void LogCompleteFailed(ILogger logger, string taskId, string reason);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Load report not sent: {Reason}")]
    private static partial void LogLoadReportFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Drain request failed: {Reason}")]
    private static partial void LogDrainFailed(ILogger logger, string reason);
}
