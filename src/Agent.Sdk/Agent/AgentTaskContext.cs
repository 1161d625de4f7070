using System.Text.Json;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>One assignment as a handler sees it.</summary>
public sealed class AgentTaskContext
{
    private static readonly JsonElement JsonNull = JsonSerializer.SerializeToElement<object?>(null);

    private readonly TaskAssignment _assignment;
    private readonly bool _messagePackWire;

    internal AgentTaskContext(TaskAssignment assignment, bool messagePackWire)
    {
        _assignment = assignment;
        _messagePackWire = messagePackWire;
        TaskId = assignment.TaskId;
        Attempt = assignment.Attempt;
        Method = assignment.Method;
        Timeout = TimeSpan.FromMilliseconds(assignment.TimeoutMs);
    }

    public string TaskId { get; }

    /// <summary>1 for the first dispatch; higher after failovers.</summary>
    public int Attempt { get; }

    public string Method { get; }

    /// <summary>
    /// The submitter's payload as JSON (a JSON null when there is none). Over MessagePack this view is converted on
    /// first read, with <c>bin</c> values as base64 strings; use <see cref="TryGetBinary(string, out ReadOnlyMemory{byte})"/> for bytes.
    /// </summary>
    public JsonElement Payload => _assignment.Payload?.Json ?? JsonNull;

    /// <summary>
    /// The payload as the MessagePack the hub sent (the submitter's bytes, or a JSON submitter's payload converted by
    /// the hub); null on a JSON connection or when there is no payload.
    /// </summary>
    public ReadOnlyMemory<byte>? PayloadMessagePack => _assignment.Payload is { IsMessagePack: true } payload ? (ReadOnlyMemory<byte>?)payload.MessagePack : null;

    /// <summary>The result set with <see cref="SetResult"/> or <see cref="SetResultMessagePack"/>.</summary>
    internal TaskPayload? Result { get; private set; }

    /// <summary>How long the hub waits for this attempt.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Binds the payload to <typeparamref name="T"/> with the wire's JSON conventions.</summary>
    public T? PayloadAs<T>() => Payload.Deserialize<T>(AgentJson.Options);

    /// <summary>
    /// The bytes of the payload's top-level property <paramref name="name"/> (case-insensitive). Over MessagePack a
    /// <c>bin</c> value is returned as a slice of the received bytes, with no base64 and no copy; otherwise a base64
    /// string (what JSON carries, and what a JSON submitter sends) is decoded. False when the property is missing or
    /// is neither.
    /// </summary>
    public bool TryGetBinary(string name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        bytes = default;
        return _assignment.Payload?.TryGetBinary(name, out bytes) == true;
    }

    /// <summary>The payload itself as bytes: a MessagePack <c>bin</c> (no copy), or a base64 JSON string (decoded).</summary>
    public bool TryGetBinary(out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        return _assignment.Payload?.TryGetBinary(null, out bytes) == true;
    }

    /// <summary>The integer value of the payload's top-level property <paramref name="name"/> (case-insensitive), without converting the rest.</summary>
    public bool TryGetInt64(string name, out long value)
    {
        value = 0;
        return _assignment.Payload?.TryGetInt64(name, out value) == true;
    }

    /// <summary>
    /// Sets the task's result from an object; the handler's returned <see cref="JsonElement"/> is then ignored. On a
    /// MessagePack connection byte buffers at the top level of <paramref name="value"/> (or <paramref name="value"/>
    /// itself) are sent as <c>bin</c>; on JSON they are base64.
    /// </summary>
    public void SetResult(object? value) => Result = PayloadSerializer.Create(value, _messagePackWire);

    /// <summary>
    /// Sets the task's result to one MessagePack value given as its encoded bytes (e.g. <see cref="PayloadMessagePack"/>
    /// to echo the payload without converting it). A MessagePack connection sends the bytes unchanged; a JSON
    /// connection sends their JSON form. The handler's returned <see cref="JsonElement"/> is then ignored.
    /// </summary>
    /// <exception cref="MessagePack.MessagePackSerializationException">The bytes are not one value with a JSON form.</exception>
    public void SetResultMessagePack(ReadOnlyMemory<byte> messagePack) => Result = TaskPayload.FromMessagePack(messagePack);
}

/// <summary>Thrown by a handler to report a task error with a machine-readable code.</summary>
public sealed class AgentTaskException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The JSON conventions of the wire: camelCase, case-insensitive, nulls omitted.</summary>
public static class AgentJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
