using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Agent.Sdk.Telemetry;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>
/// An agent: connects to the hub (retrying forever), registers its capabilities (again after every
/// reconnect), runs at most <see cref="AgentOptions.MaxConcurrency"/> handlers at once, cancels a handler
/// when the hub sends Cancel, and on <see cref="StopAsync"/> drains: no new tasks, in-flight ones finish.
/// A handler's return value is the task's result, written in the connection's protocol; an
/// <see cref="AgentTaskException"/> (or any exception) is the task's error.
/// </summary>
public sealed partial class AicpAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly Dictionary<string, Func<AgentTaskContext, CancellationToken, ValueTask<TaskPayload?>>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly ResilientHubConnection _connection;
    private readonly PayloadSerializer _serializer;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _stopReporting = new();
    private readonly List<IAsyncDisposable> _batchers = [];
    private Task? _reporting;
    private int _started;
    private int _disposed;
    private long _completed;
    private long _failed;

    /// <param name="options">Validated here; every problem is reported in one <see cref="ArgumentException"/>.</param>
    /// <param name="loggerFactory">Logs connection and handler events; none when null.</param>
    public AicpAgent(AgentOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException("Invalid agent options: " + string.Join(" ", problems), nameof(options));
        }

        _options = options;
        _serializer = new PayloadSerializer(options.SerializerOptions, options.Protocol);
        _logger = (ILogger?)loggerFactory?.CreateLogger<AicpAgent>() ?? NullLogger.Instance;
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _connection = new ResilientHubConnection(options, ConfigureHandlers, RegisterAsync, loggerFactory);
    }

    /// <summary>This agent's id.</summary>
    public string AgentId => _options.AgentId;

    /// <summary>The connection: <see cref="AicpConnectionState.Connected"/> means connected and registered.</summary>
    public AicpConnectionState State => _connection.State;

    /// <summary>Raised when the connection to the hub is lost; the agent reconnects on its own.</summary>
    public event Func<Exception?, Task>? Reconnecting
    {
        add => _connection.Reconnecting += value;
        remove => _connection.Reconnecting -= value;
    }

    /// <summary>Raised when the agent is back: reconnected and registered again.</summary>
    public event Func<Task>? Reconnected
    {
        add => _connection.Reconnected += value;
        remove => _connection.Reconnected -= value;
    }

    /// <summary>Raised once, when the agent stops (<see cref="StopAsync"/> or disposal).</summary>
    public event Func<Exception?, Task>? Closed
    {
        add => _connection.Closed += value;
        remove => _connection.Closed -= value;
    }

    /// <summary>Raised after each registration the hub accepted (the first connect and every reconnect).</summary>
    public event Func<RegistrationAck, Task>? Registered;

    /// <summary>The hub's answer to the latest registration (accepted or refused); null before the first.</summary>
    public RegistrationAck? Registration { get; private set; }

    /// <summary>Handlers running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Tasks this agent completed successfully since it started.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>Tasks this agent reported as failed since it started.</summary>
    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>
    /// Serves <paramref name="method"/>: the payload binds to <typeparamref name="TRequest"/> and the returned
    /// <typeparamref name="TResponse"/> is the result, both straight in the connection's protocol (byte buffers as
    /// <c>bin</c> over MessagePack). A payload that does not bind fails the task with <c>invalid_payload</c>.
    /// Call before <see cref="StartAsync"/>.
    /// </summary>
    public AicpAgent Handle<TRequest, TResponse>(string method, Func<TRequest, AgentTaskContext, CancellationToken, ValueTask<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Add(method, async (task, ct) => _serializer.Serialize(await handler(task.GetPayload<TRequest>()!, task, ct).ConfigureAwait(false), typeof(TResponse)));
    }

    /// <summary>
    /// Serves <paramref name="method"/> with a handler that reads the payload itself (<see cref="AgentTaskContext.Payload"/>,
    /// <see cref="AgentTaskContext.GetPayload{T}"/>, <see cref="AgentTaskContext.TryGetBinary(string, out ReadOnlyMemory{byte})"/>);
    /// the returned value is the result (a <see cref="TaskPayload"/> is sent as it is). Call before <see cref="StartAsync"/>.
    /// </summary>
    public AicpAgent Handle<TResponse>(string method, Func<AgentTaskContext, CancellationToken, ValueTask<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Add(method, async (task, ct) => _serializer.Serialize(await handler(task, ct).ConfigureAwait(false), typeof(TResponse)));
    }

    /// <summary>
    /// Serves <paramref name="method"/> in batches: concurrent tasks are gathered into one handler call
    /// (see <see cref="BatchOptions"/>), and each task completes with its own typed result or error.
    /// </summary>
    public AicpAgent HandleBatch<TRequest, TResponse>(string method, Func<IReadOnlyList<BatchItem<TRequest, TResponse>>, CancellationToken, ValueTask> handler,
        BatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var collector = new BatchCollector<TRequest, TResponse>(handler, options ?? new BatchOptions());
        _batchers.Add(collector);
        return Handle<TResponse>(method, collector.RunAsync);
    }

    private AicpAgent Add(string method, Func<AgentTaskContext, CancellationToken, ValueTask<TaskPayload?>> handler)
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("Handlers are added before the agent starts.");
        }

        if (!Names.IsValid(method))
        {
            throw new ArgumentException($"Method '{method}' does not match ^[a-z0-9][a-z0-9._-]{{0,127}}$.", nameof(method));
        }

        _handlers[method] = handler;
        return this;
    }

    /// <summary>
    /// Connects and registers, retrying until it succeeds or <paramref name="cancellationToken"/> fires; once registered,
    /// the agent reconnects and registers again by itself whenever the connection is lost.
    /// </summary>
    /// <exception cref="AicpRegistrationRefusedException">The hub refused the registration for good (<c>forbidden</c>,
    /// <c>invalid_agent_id</c>, ...: <see cref="AicpRegistrationRefusedException.IsTransient"/> false).</exception>
    /// <exception cref="AicpConnectionRefusedException">The hub refused the credential (HTTP 401 or 403).</exception>
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

    /// <summary>The GPUs this agent reports (empty without <see cref="AgentOptions.GpuTelemetry"/>).</summary>
    public IReadOnlyList<GpuTelemetry> ReadGpus() => _options.GpuTelemetry?.Read() ?? [];

    /// <summary>The agent's load as it would report it now: tasks waiting for a slot, free slots, GPU readings.</summary>
    public AgentLoadReport CurrentLoad()
    {
        var free = _slots.CurrentCount;
        var busy = _options.MaxConcurrency - free;
        var report = new AgentLoadReport
        {
            QueueDepth = Math.Max(0, _running.Count - busy),
            FreeSlots = free,
            Gpus = _options.GpuTelemetry is null ? null : ReadGpus(),
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
    internal async Task AbortAsync()
    {
        _aborted.Cancel();
        foreach (var running in _running.Values)
        {
            running.Cancellation.Cancel();
        }

        await _connection.AbortAsync().ConfigureAwait(false);
        await StopReportingAsync().ConfigureAwait(false);
    }

    /// <summary>Stops at once (no drain: use <see cref="StopAsync"/> first for that) and releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        await StopReportingAsync().ConfigureAwait(false);
        (_options.GpuTelemetry as IDisposable)?.Dispose();
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
        Registration = ack;
        if (!ack.Accepted)
        {
            throw new AicpRegistrationRefusedException(_options.AgentId, ack.Error?.Code, ack.Error?.Message);
        }

        LogRegistered(_logger, ack.AgentId, string.Join(",", ack.Capabilities));
        foreach (var handler in Registered?.GetInvocationList().Cast<Func<RegistrationAck, Task>>() ?? [])
        {
            try
            {
                await handler(ack).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogRegisteredHandlerFailed(_logger, ex);
            }
        }
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

        ThreadPool.QueueUserWorkItem(static s => _ = s.Agent.RunAsync(s.Assignment, s.Running), (Agent: this, Assignment: assignment, Running: running),
            preferLocal: false);
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

            var result = await handler(new AgentTaskContext(assignment, _serializer, SendPartialAsync), running.Cancellation.Token).ConfigureAwait(false);
            completion = new TaskCompletion { TaskId = assignment.TaskId, Attempt = assignment.Attempt, Ok = true, Result = result };
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

    private Task<bool> SendPartialAsync(TaskPartial partial, CancellationToken cancellationToken) =>
        _aborted.IsCancellationRequested
            ? Task.FromResult(false)
            : _connection.Connection.InvokeAsync<bool>(HubMethods.Partial, partial, cancellationToken);

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

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "A Registered event handler threw")]
    private static partial void LogRegisteredHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Drain request failed: {Reason}")]
    private static partial void LogDrainFailed(ILogger logger, string reason);
}
