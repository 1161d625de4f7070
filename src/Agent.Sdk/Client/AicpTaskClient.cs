using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Protocol.MessagePack;
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
    /// level (or the payload itself) as <c>bin</c> (see <see cref="MessagePackPayload.Serialize"/>); on JSON they
    /// are base64 strings.
    /// </summary>
    public async Task<TaskResult> SubmitAsync(string method, object? payload, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = _messagePackWire && payload is not JsonElement
            ? new TaskRequest
            {
                Method = method,
                PayloadMessagePack = MessagePackPayload.Serialize(payload, AgentJson.Options),
                Strategy = options?.Strategy,
                TimeoutMs = options?.TimeoutMs,
                MaxAttempts = options?.MaxAttempts,
            }
            : new TaskRequest
            {
                Method = method,
                Payload = payload as JsonElement? ?? JsonSerializer.SerializeToElement(payload, AgentJson.Options),
                Strategy = options?.Strategy,
                TimeoutMs = options?.TimeoutMs,
                MaxAttempts = options?.MaxAttempts,
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
        result.Result is { } json ? json.Deserialize<T>(AgentJson.Options) : default;

    /// <summary>
    /// The bytes of the result's top-level property <paramref name="name"/> (or of the result itself when null):
    /// a MessagePack <c>bin</c> as a slice of the received bytes, or a base64 JSON string, decoded.
    /// </summary>
    public static bool TryGetResultBinary(this TaskResult result, string? name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.ResultMessagePack is { } raw && MessagePackPayload.TryGetBinary(raw, name, out bytes))
        {
            return true;
        }

        bytes = default;
        var value = result.Result;
        if (value is { ValueKind: JsonValueKind.Object } obj && name is not null)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = property.Value;
                    break;
                }
            }

            if (value.Value.ValueKind == JsonValueKind.Object)
            {
                return false;
            }
        }

        if (value is { ValueKind: JsonValueKind.String } text && text.TryGetBytesFromBase64(out var decoded))
        {
            bytes = decoded;
            return true;
        }

        return false;
    }
}
