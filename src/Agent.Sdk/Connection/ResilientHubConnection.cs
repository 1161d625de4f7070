using System.Net;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// SignalR's <see cref="HubConnection"/> over WebSockets (no negotiate round trip), kept connected by
/// <see cref="ReconnectPolicy"/>: Polly retries the first connect, SignalR's automatic reconnect brings a lost
/// connection back, and after each (re)connect the owner's <c>onConnected</c> step runs (agents re-register there).
/// If that step fails, or SignalR closes the connection for good, the connection is restarted through Polly. A refusal
/// that trying again cannot change (<see cref="IsFinal"/>) ends the first connect with its exception instead of being
/// retried; once the connection has been up, every failure is retried.
/// <see cref="State"/> and the <see cref="Reconnecting"/> / <see cref="Reconnected"/> / <see cref="Closed"/> events
/// describe the connection as the owner sees it: connected means the owner's step has run.
/// </summary>
/// <remarks>
/// The connection is a <see cref="WebSocketConnection"/> from <see cref="WebSocketConnectionFactory"/> (see there why
/// not the client's own WebSockets transport). One connect step runs at a time (<c>_connectGate</c>).
/// </remarks>
internal sealed partial class ResilientHubConnection : IAsyncDisposable
{
    private readonly AicpConnectionOptions _options;
    private readonly Func<HubConnection, CancellationToken, Task> _onConnected;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly ReconnectPolicy _policy;
    private readonly WebSocketConnectionFactory _factory;
    private readonly Channel<bool> _restartRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _restarting;
    private readonly Lock _stateLock = new();
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AicpConnectionState _state = AicpConnectionState.Disconnected;
    private bool _closed;
    private volatile bool _upOnce;
    private int _disposed;

    public ResilientHubConnection(AicpConnectionOptions options, Action<HubConnection> configureHandlers,
        Func<HubConnection, CancellationToken, Task> onConnected, ILoggerFactory? loggerFactory)
    {
        _options = options;
        _onConnected = onConnected;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ResilientHubConnection>() ?? NullLogger.Instance;
        _policy = new ReconnectPolicy(options, _stopping.Token, args =>
            LogConnectFailed(_logger, Endpoint, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? ""),
            retryable: ex => _upOnce || !IsFinal(ex));

        var messagePack = options.Protocol switch
        {
            HubProtocol.Json => false,
            HubProtocol.MessagePack => true,
            _ => throw new ArgumentException($"Unknown protocol {options.Protocol}.", nameof(options)),
        };
        _factory = new WebSocketConnectionFactory(messagePack ? TransferFormat.Binary : TransferFormat.Text, options);
        var builder = new HubConnectionBuilder()
            .WithAutomaticReconnect(_policy)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        if (messagePack)
        {
            builder.AddMessagePackProtocol(); // the last protocol registered is the one the connection speaks
        }

        builder.Services.AddSingleton<IConnectionFactory>(_factory);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(options.ResolveEndpoints()[0]));
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        Connection = builder.Build();
        configureHandlers(Connection);
        Connection.Reconnecting += OnReconnectingAsync;
        Connection.Reconnected += OnReconnectedAsync;
        Connection.Closed += OnClosedAsync;
        _restarting = RestartWhenAskedAsync();
    }

    /// <summary>Raised when a connected connection is lost; the argument is the error, if any.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>Raised when a lost connection is back (the owner's step has run again).</summary>
    public event Func<Task>? Reconnected;

    /// <summary>Raised once, when the connection stops for good (<see cref="StopAsync"/> or disposal).</summary>
    public event Func<Exception?, Task>? Closed;

    public HubConnection Connection { get; }

    public AicpConnectionState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Completes when the connection is up and the owner's step has run.</summary>
    public Task Ready => _ready.Task;

    public bool IsConnected => Connection.State == HubConnectionState.Connected && _ready.Task.IsCompletedSuccessfully;

    private string Endpoint => _factory.CurrentEndpoint?.ToString() ?? _options.ResolveEndpoints()[0].ToString();

    /// <summary>
    /// Whether a failure is one that trying again cannot change: a refused credential (401, 403) or a registration the
    /// hub refuses for good (see <see cref="AicpConnectionRefusedException.IsTransient"/> and
    /// <see cref="Agent.AicpRegistrationRefusedException.IsTransient"/>).
    /// </summary>
    internal static bool IsFinal(Exception exception) => exception switch
    {
        AicpConnectionRefusedException refused => !refused.IsTransient,
        Agent.AicpRegistrationRefusedException refused => !refused.IsTransient,
        _ => false,
    };

    /// <summary>
    /// Connects, retrying until it succeeds or <paramref name="cancellationToken"/> fires. Before the connection has
    /// first been up, a final refusal (<see cref="IsFinal"/>) is thrown at once, and <see cref="Ready"/> fails with it.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Transition(AicpConnectionState.Disconnected, AicpConnectionState.Connecting);
        if (_ready.Task.IsFaulted)
        {
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // a new try after a refusal
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            await _connectGate.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                await _policy.Pipeline.ExecuteAsync(ConnectOnceAsync, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && linked.IsCancellationRequested)
            {
                throw new OperationCanceledException("Connecting was cancelled.", ex, linked.Token);
            }
            finally
            {
                _connectGate.Release();
            }
        }
        catch (OperationCanceledException)
        {
            Transition(AicpConnectionState.Connecting, AicpConnectionState.Disconnected);
            throw;
        }
        catch (Exception ex) when (IsFinal(ex))
        {
            LogRefused(_logger, Endpoint, ex.Message);
            Transition(AicpConnectionState.Connecting, AicpConnectionState.Disconnected);
            if (_ready.TrySetException(ex))
            {
                _ = _ready.Task.Exception; // observed: it is also thrown to the caller
            }

            throw;
        }
    }

    /// <summary>Stops reconnecting and closes the connection gracefully.</summary>
    public async Task StopAsync()
    {
        if (Volatile.Read(ref _disposed) != 0 && _closed)
        {
            return; // stopped and disposed already
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _restarting.ConfigureAwait(false);
        await Connection.StopAsync().ConfigureAwait(false);
        bool first;
        lock (_stateLock)
        {
            first = !_closed;
            _closed = true;
            _state = AicpConnectionState.Disconnected;
        }

        if (first)
        {
            await RaiseAsync(Closed, null).ConfigureAwait(false);
        }
    }

    /// <summary>Drops the socket without a close handshake and stops reconnecting, as a crashed process would.</summary>
    public async Task AbortAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _factory.AbortCurrent();
        await StopAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async ValueTask ConnectOnceAsync(CancellationToken cancellationToken)
    {
        if (IsConnected)
        {
            return; // a restart queued behind a connect that already succeeded
        }

        try
        {
            if (Connection.State == HubConnectionState.Disconnected)
            {
                await Connection.StartAsync(cancellationToken).ConfigureAwait(false);
                LogConnected(_logger, Endpoint);
            }

            await _onConnected(Connection, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (Connection.State != HubConnectionState.Disconnected)
        {
            await Connection.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await OnUpAsync().ConfigureAwait(false);
    }

    /// <summary>The connection is up and the owner's step has run: Connected, and Reconnected if it had been lost.</summary>
    private async Task OnUpAsync()
    {
        AicpConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (!_closed)
            {
                _state = AicpConnectionState.Connected;
            }
        }

        _upOnce = true;
        _ready.TrySetResult();
        if (previous == AicpConnectionState.Reconnecting)
        {
            await RaiseAsync(Reconnected).ConfigureAwait(false);
        }
    }

    /// <summary>The connection was lost (not stopped): Reconnecting, raised once per loss.</summary>
    private async Task OnLostAsync(Exception? error)
    {
        LogDisconnected(_logger, Endpoint, error?.Message ?? "closed");
        AicpConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (!_closed && previous == AicpConnectionState.Connected)
            {
                _state = AicpConnectionState.Reconnecting;
            }
        }

        if (_ready.Task.IsCompleted)
        {
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (previous == AicpConnectionState.Connected)
        {
            await RaiseAsync(Reconnecting, error).ConfigureAwait(false);
        }
    }

    private Task OnReconnectingAsync(Exception? error) => _stopping.IsCancellationRequested ? Task.CompletedTask : OnLostAsync(error);

    private async Task OnReconnectedAsync(string? connectionId)
    {
        try
        {
            await _connectGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        LogConnected(_logger, Endpoint);
        try
        {
            await _onConnected(Connection, _stopping.Token).ConfigureAwait(false);
            await OnUpAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            // Stopping raises Closed, which restarts the connection through the retry policy.
            LogConnectFailed(_logger, Endpoint, 1, 0, ex.Message);
            _ = Connection.StopAsync();
        }
        catch (Exception)
        {
            // stopping anyway
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task OnClosedAsync(Exception? error)
    {
        if (_stopping.IsCancellationRequested || !_upOnce)
        {
            return; // before the first time up, the connect step that failed (and stopped the connection) retries or throws
        }

        await OnLostAsync(error).ConfigureAwait(false);
        _restartRequests.Writer.TryWrite(true); // at most one request waits; a connect already under way absorbs it
    }

    /// <summary>
    /// The one restart loop: each request runs the connect step through the retry policy, after any connect that is
    /// under way (which makes it a no-op when that connect succeeded). Requests that arrive meanwhile collapse into one,
    /// so a connection that keeps failing never has more than one connect loop.
    /// </summary>
    private async Task RestartWhenAskedAsync()
    {
        try
        {
            while (await _restartRequests.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                _restartRequests.Reader.TryRead(out _);
                await StartAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Transition(AicpConnectionState from, AicpConnectionState to)
    {
        lock (_stateLock)
        {
            if (_state == from && !_closed)
            {
                _state = to;
            }
        }
    }

    private async Task RaiseAsync(Func<Task>? handlers)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<Task>>() ?? [])
        {
            try
            {
                await handler().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogEventHandlerFailed(_logger, ex);
            }
        }
    }

    private async Task RaiseAsync(Func<Exception?, Task>? handlers, Exception? error)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<Exception?, Task>>() ?? [])
        {
            try
            {
                await handler(error).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogEventHandlerFailed(_logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Connected to {HubUrl}")]
    private static partial void LogConnected(ILogger logger, string hubUrl);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Connecting to {HubUrl} failed (attempt {Attempt}); retrying in about {DelayMs} ms: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string hubUrl, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Connection to {HubUrl} lost ({Reason}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string hubUrl, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "Connecting to {HubUrl} failed for good, not retrying: {Reason}")]
    private static partial void LogRefused(ILogger logger, string hubUrl, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "A connection event handler threw")]
    private static partial void LogEventHandlerFailed(ILogger logger, Exception exception);
}
