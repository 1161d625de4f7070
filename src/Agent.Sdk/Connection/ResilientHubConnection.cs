using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// A HubConnection that keeps itself connected: the first connect and every reconnect retry forever
/// with capped exponential backoff and jitter, until the owner stops it. After each (re)connect the
/// owner's <c>onConnected</c> callback runs (agents re-register there).
/// </summary>
internal sealed partial class ResilientHubConnection : IAsyncDisposable
{
    private readonly AicpConnectionOptions _options;
    private readonly Func<HubConnection, CancellationToken, Task> _onConnected;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WebSocketConnectionFactory _factory;
    private Task? _reconnecting;

    public ResilientHubConnection(AicpConnectionOptions options, Action<HubConnection> configureHandlers,
        Func<HubConnection, CancellationToken, Task> onConnected, ILoggerFactory? loggerFactory)
    {
        _options = options;
        _onConnected = onConnected;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ResilientHubConnection>() ?? NullLogger.Instance;

        var builder = new HubConnectionBuilder();
        var binary = options.Protocol switch
        {
            HubProtocols.Json => false,
            HubProtocols.MessagePack => true,
            _ => throw new ArgumentException($"Unknown protocol '{options.Protocol}'; use '{HubProtocols.Json}' or '{HubProtocols.MessagePack}'.", nameof(options)),
        };
        _factory = new WebSocketConnectionFactory(binary ? TransferFormat.Binary : TransferFormat.Text, options);
        builder.Services.AddSingleton<IConnectionFactory>(_factory);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(options.ResolveEndpoint()));
        builder.AddJsonProtocol(o => o.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        if (binary)
        {
            // The connection uses the last registered protocol.
            var messagePack = new MessagePackHubProtocolOptions();
            messagePack.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            builder.Services.AddSingleton<IHubProtocol>(new MessagePackHubProtocol(messagePack));
        }
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        Connection = builder.Build();
        configureHandlers(Connection);
        Connection.Closed += OnClosedAsync;
    }

    public HubConnection Connection { get; }

    /// <summary>Completes when the connection is up and the owner's callback has run.</summary>
    public Task Ready => _ready.Task;

    public bool IsConnected => Connection.State == HubConnectionState.Connected && _ready.Task.IsCompletedSuccessfully;

    /// <summary>Connects, retrying until it succeeds or <paramref name="cancellationToken"/> fires.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await ConnectLoopAsync(linked.Token).ConfigureAwait(false);
    }

    /// <summary>Stops reconnecting and closes the connection gracefully.</summary>
    public async Task StopAsync()
    {
        _stopping.Cancel();
        if (_reconnecting is { } reconnecting)
        {
            await reconnecting.ConfigureAwait(false);
        }

        await Connection.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Drops the socket without a close handshake and stops reconnecting, as a crashed process would.</summary>
    public async Task AbortAsync()
    {
        _stopping.Cancel();
        _factory.AbortCurrent();
        if (_reconnecting is { } reconnecting)
        {
            await reconnecting.ConfigureAwait(false);
        }

        await Connection.StopAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task ConnectLoopAsync(CancellationToken cancellationToken)
    {
        var delay = _options.ReconnectInitialDelay;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (Connection.State == HubConnectionState.Disconnected)
                {
                    await Connection.StartAsync(cancellationToken).ConfigureAwait(false);
                }

                await _onConnected(Connection, cancellationToken).ConfigureAwait(false);
                _ready.TrySetResult();
                LogConnected(_logger, _options.HubUrl, attempt);
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogConnectFailed(_logger, _options.HubUrl, attempt, delay.TotalMilliseconds, ex.Message);
                if (Connection.State != HubConnectionState.Disconnected)
                {
                    await Connection.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                _connectGate.Release();
            }

            var jittered = delay * (0.5 + Random.Shared.NextDouble() / 2);
            await Task.Delay(jittered, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
        }
    }

    private Task OnClosedAsync(Exception? error)
    {
        if (_stopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        LogDisconnected(_logger, _options.HubUrl, error?.Message ?? "closed");
        if (_ready.Task.IsCompleted)
        {
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        _reconnecting = Task.Run(async () =>
        {
            try
            {
                await ConnectLoopAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        });
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Connected to {HubUrl} (attempt {Attempt})")]
    private static partial void LogConnected(ILogger logger, string hubUrl, int attempt);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Connecting to {HubUrl} failed (attempt {Attempt}); retrying in about {DelayMs} ms: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string hubUrl, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Connection to {HubUrl} lost ({Reason}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string hubUrl, string reason);
}
