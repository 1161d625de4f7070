using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace Aicp.Agent.Sdk.Client;

/// <summary>
/// Submits tasks to the hub over one connection; many submits may be in flight at once. Connects (and reconnects)
/// with the same retry policy as agents.
/// </summary>
public sealed class AicpTaskClient : IAsyncDisposable
{
    private readonly ResilientHubConnection _connection;
    private readonly PayloadSerializer _serializer;
    private int _connectStarted;

    /// <param name="options">Validated here; every problem is reported in one <see cref="ArgumentException"/>.</param>
    /// <param name="loggerFactory">Logs connection events; none when null.</param>
    public AicpTaskClient(AicpConnectionOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ValidateConnection() is { Count: > 0 } problems)
        {
            throw new ArgumentException("Invalid connection options: " + string.Join(" ", problems), nameof(options));
        }

        _serializer = new PayloadSerializer(options.SerializerOptions, options.Protocol);
        _connection = new ResilientHubConnection(options, static _ => { }, static (_, _) => Task.CompletedTask, loggerFactory);
    }

    /// <summary>The connection to the hub.</summary>
    public AicpConnectionState State => _connection.State;

    /// <summary>Raised when the connection to the hub is lost; the client reconnects on its own. Tasks in flight on it end with an exception.</summary>
    public event Func<Exception?, Task>? Reconnecting
    {
        add => _connection.Reconnecting += value;
        remove => _connection.Reconnecting -= value;
    }

    /// <summary>Raised when the connection is back.</summary>
    public event Func<Task>? Reconnected
    {
        add => _connection.Reconnected += value;
        remove => _connection.Reconnected -= value;
    }

    /// <summary>Raised once, when the client is disposed.</summary>
    public event Func<Exception?, Task>? Closed
    {
        add => _connection.Closed += value;
        remove => _connection.Closed -= value;
    }

    /// <summary>
    /// Connects, retrying until it succeeds or <paramref name="cancellationToken"/> fires. Optional: the first submit
    /// starts connecting by itself and waits for the connection.
    /// </summary>
    /// <exception cref="AicpConnectionRefusedException">The hub refused the credential (HTTP 401 or 403); submits waiting
    /// for the connection throw it too.</exception>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => _connection.StartAsync(cancellationToken);

    /// <summary>
    /// Submits a task and returns its final result, whatever its status. Throws only when the connection fails
    /// mid-call, or when the hub refused it for good. The payload is written in the connection's protocol (byte buffers
    /// as <c>bin</c> over MessagePack).
    /// </summary>
    /// <exception cref="AicpConnectionRefusedException">The hub refused the credential (HTTP 401 or 403) before the
    /// connection was first up.</exception>
    /// <exception cref="AicpConnectionLostException">The connection ended while the task was pending: its outcome is unknown.</exception>
    public async Task<TaskResult> SubmitAsync(string method, object? payload, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Request(method, payload, options);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _connection.Connection.InvokeAsync<TaskResult>(HubMethods.Submit, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException
            && !cancellationToken.IsCancellationRequested)
        {
            // The connection ended under the call (SignalR cancels the invocations of a closed connection, or the socket's
            // error surfaces): not the caller's doing.
            throw new AicpConnectionLostException(
                $"The connection to the hub was lost while the '{method}' task was pending; its outcome is unknown (it may have completed).", ex);
        }
    }

    /// <summary>
    /// Submits a task whose output is read as the agent produces it: enumerate the returned stream for the chunks the
    /// agent writes (<see cref="Agent.AgentTaskContext.WriteChunkAsync{T}"/>), each bound to <typeparamref name="TChunk"/>;
    /// then its <see cref="AicpTaskStream{TChunk}.Result"/> is the task's one final result. The task starts when the
    /// enumeration starts. The hub fails a streamed task over only until its first chunk was sent; after that, a lost
    /// agent ends it with <c>stream_interrupted</c>.
    /// </summary>
    public AicpTaskStream<TChunk> SubmitStream<TChunk>(string method, object? payload, SubmitOptions? options = null)
    {
        var request = Request(method, payload, options);
        return new AicpTaskStream<TChunk>(async cancellationToken =>
        {
            await ReadyAsync(cancellationToken).ConfigureAwait(false);
            return _connection.Connection.StreamAsync<TaskStreamItem>(HubMethods.SubmitStream, request, cancellationToken);
        }, _serializer);
    }

    private TaskRequest Request(string method, object? payload, SubmitOptions? options) => new()
    {
        Method = method,
        Payload = _serializer.Serialize(payload, payload?.GetType() ?? typeof(object)),
        Strategy = options?.Strategy?.Name,
        TimeoutMs = Milliseconds(options?.Timeout),
        MaxAttempts = options?.MaxAttempts,
        DeadlineMs = Milliseconds(options?.Deadline),
        Fallbacks = options?.Fallbacks is { } fallbacks ? [.. fallbacks] : null,
    };

    private Task ReadyAsync(CancellationToken cancellationToken)
    {
        if (!_connection.Ready.IsCompletedSuccessfully && _connection.State == AicpConnectionState.Disconnected
            && Interlocked.Exchange(ref _connectStarted, 1) == 0)
        {
            // Connect in the background, for the client's lifetime; the caller waits for it (or its own cancellation).
            _ = ConnectInBackgroundAsync();
        }

        return _connection.Ready.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Submits a task and returns its result bound to <typeparamref name="TResponse"/>, straight from the form it
    /// arrived in. The request is written in the connection's protocol.
    /// </summary>
    /// <exception cref="AicpTaskFailedException">The task did not complete (status, code, message and route inside).</exception>
    /// <exception cref="System.Text.Json.JsonException">The result does not bind to <typeparamref name="TResponse"/>.</exception>
    public async Task<TResponse> SubmitAsync<TRequest, TResponse>(string method, TRequest request, SubmitOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var result = await SubmitAsync(method, _serializer.Serialize(request, typeof(TRequest)), options, cancellationToken).ConfigureAwait(false);
        return result.Status == TaskStatuses.Completed ? GetResult<TResponse>(result)! : throw new AicpTaskFailedException(result);
    }

    /// <summary>The result bound to <typeparamref name="T"/> with this client's serializer options.</summary>
    public T? GetResult<T>(TaskResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return _serializer.Deserialize<T>(result.Result);
    }

    /// <summary>A duration in whole milliseconds, rounded up (so a sub-millisecond value is not 0); null stays null.</summary>
    private static int? Milliseconds(TimeSpan? value) => value is { } span ? (int)Math.Clamp(Math.Ceiling(span.TotalMilliseconds), 0, int.MaxValue) : null;

    private async Task ConnectInBackgroundAsync()
    {
        try
        {
            await _connection.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // disposed before the hub answered
        }
        catch (AicpConnectionRefusedException)
        {
            // refused for good: the submits waiting for the connection throw it
        }
    }

    /// <summary>Drops the connection without a close handshake (exercises submitter-loss handling).</summary>
    internal Task AbortAsync() => _connection.AbortAsync();

    /// <summary>Closes the connection.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
