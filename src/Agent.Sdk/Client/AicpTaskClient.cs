using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Agent.Sdk.Serialization;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace Aicp.Agent.Sdk.Client;

/// <summary>
/// Submits tasks to the hub over one WebSocket connection; many submits may be in flight at once.
/// Connects (and reconnects) with the same retry policy as agents.
/// </summary>
public sealed class AicpTaskClient : IAsyncDisposable
{
    private readonly ResilientHubConnection _connection;
    private readonly bool _messagePackWire;

    public AicpTaskClient(AicpConnectionOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _messagePackWire = options.Protocol == HubProtocols.MessagePack;
        _connection = new ResilientHubConnection(options, static _ => { }, static (_, _) => Task.CompletedTask, loggerFactory);
    }

    public bool IsConnected => _connection.IsConnected;

    /// <summary>Connects, retrying until it succeeds or <paramref name="cancellationToken"/> fires.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => _connection.StartAsync(cancellationToken);

    /// <summary>
    /// Submits a task and returns its final result (any status). Throws only if the connection fails mid-call.
    /// On a MessagePack connection the payload is serialized straight to MessagePack, with byte buffers at its top
    /// level (or the payload itself) as <c>bin</c>; on JSON they are base64 strings.
    /// </summary>
    public async Task<TaskResult> SubmitAsync(string method, object? payload, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new TaskRequest
        {
            Method = method,
            Payload = PayloadSerializer.Create(payload, _messagePackWire),
            Strategy = options?.Strategy,
            TimeoutMs = options?.TimeoutMs,
            MaxAttempts = options?.MaxAttempts,
            DeadlineMs = options?.DeadlineMs,
        };
        await _connection.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.Connection.InvokeAsync<TaskResult>(HubMethods.Submit, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the connection without a close handshake (used to exercise submitter-loss handling).</summary>
    public Task AbortAsync() => _connection.AbortAsync();

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

/// <summary>Reading a result's JSON.</summary>
public static class TaskResultExtensions
{
    /// <summary>Binds the result to <typeparamref name="T"/>; default when the task produced none.</summary>
    public static T? ResultAs<T>(this TaskResult result) =>
        result.Result is { } value ? value.Deserialize<T>(AgentJson.Options) : default;

    /// <summary>
    /// The bytes of the result's top-level property <paramref name="name"/> (or of the result itself when null):
    /// a MessagePack <c>bin</c> as a slice of the received bytes, or a base64 JSON string, decoded.
    /// </summary>
    public static bool TryGetResultBinary(this TaskResult result, string? name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(result);
        bytes = default;
        return result.Result?.TryGetBinary(name, out bytes) == true;
    }
}
