using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Agent.Sdk.Serialization;

/// <summary>
/// Turns .NET values into <see cref="TaskPayload"/>s in the form the connection speaks, and payloads back into values,
/// straight from the form they arrived in: System.Text.Json for JSON, <see cref="MessagePackContract"/> (the same
/// names and rules, byte buffers as <c>bin</c>) for MessagePack. No value goes through the other protocol's form.
/// </summary>
internal sealed class PayloadSerializer
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, MessagePackContract> Contracts = [];

    private readonly MessagePackContract _contract;

    public PayloadSerializer(JsonSerializerOptions options, HubProtocol protocol)
    {
        _contract = ContractFor(options);
        Protocol = protocol;
    }

    public HubProtocol Protocol { get; }

    public JsonSerializerOptions Options => _contract.Options;

    /// <summary>The MessagePack contract of <paramref name="options"/>, shared by everything that uses them.</summary>
    public static MessagePackContract ContractFor(JsonSerializerOptions options) =>
        Contracts.GetValue(options, static o => new MessagePackContract(o));

    /// <summary>A value as a payload; null for null. A <see cref="TaskPayload"/> is taken as it is.</summary>
    public TaskPayload? Serialize(object? value, Type type)
    {
        switch (value)
        {
            case null:
                return null;
            case TaskPayload payload:
                return payload;
            case JsonElement { ValueKind: JsonValueKind.Undefined }:
                return null; // default(JsonElement): no value
            case JsonElement json:
                return TaskPayload.FromJson(json);
        }

        if (type == typeof(object))
        {
            type = value.GetType();
        }

        if (Protocol == HubProtocol.Json)
        {
            return TaskPayload.FromOwnedJson(JsonSerializer.SerializeToElement(value, type, Options)); // its own document: no copy
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        _contract.Write(ref writer, value, type);
        writer.Flush();
        return TaskPayload.FromMessagePack(buffer.WrittenMemory);
    }

    /// <summary>A payload as a <typeparamref name="T"/>; default for no payload.</summary>
    /// <exception cref="JsonException">The payload does not bind to <typeparamref name="T"/>.</exception>
    public T? Deserialize<T>(TaskPayload? payload) => Read<T>(payload, _contract);

    /// <summary>A payload as a <typeparamref name="T"/> under <paramref name="contract"/>'s options.</summary>
    public static T? Read<T>(TaskPayload? payload, MessagePackContract contract)
    {
        if (payload is null)
        {
            return default;
        }

        if (typeof(T) == typeof(TaskPayload))
        {
            return (T)(object)payload;
        }

        if (!payload.IsMessagePack)
        {
            return payload.Json.Deserialize<T>(contract.Options);
        }

        try
        {
            var reader = new MessagePackReader(payload.MessagePack);
            return (T?)contract.Read(ref reader, typeof(T));
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or FormatException or InvalidCastException)
        {
            throw new JsonException($"The payload does not bind to {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
