using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Agent.Sdk.Serialization;

/// <summary>
/// Turns a .NET object into a <see cref="TaskPayload"/> in the form the connection speaks. Names and ignore rules are
/// System.Text.Json's (<see cref="AgentJson.Options"/>: camelCase, nulls left out), so a payload has the same keys on
/// either protocol. On MessagePack, byte buffers (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>,
/// <c>Memory&lt;byte&gt;</c>, <c>ArraySegment&lt;byte&gt;</c>) become <c>bin</c> when they are the value itself, a
/// property of the top-level object or a value of a top-level string-keyed dictionary; deeper ones are base64 strings,
/// as in JSON.
/// </summary>
internal static class PayloadSerializer
{
    public static TaskPayload? Create(object? value, bool messagePack, JsonSerializerOptions? options = null)
    {
        options ??= AgentJson.Options;
        switch (value)
        {
            case null:
                return null;
            case TaskPayload payload:
                return payload;
            case JsonElement json:
                return TaskPayload.FromJson(json);
        }

        if (!messagePack)
        {
            return TaskPayload.FromJson(JsonSerializer.SerializeToElement(value, value.GetType(), options));
        }

        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        if (!TryWriteBinary(ref writer, value) && !TryWriteObjectWithBinary(ref writer, value, options))
        {
            WriteThroughJson(ref writer, value, value.GetType(), options);
        }

        writer.Flush();
        return TaskPayload.FromMessagePack(buffer.WrittenMemory);
    }

    private static bool TryWriteBinary(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case byte[] array:
                writer.Write(array);
                return true;
            case ReadOnlyMemory<byte> readOnlyMemory:
                writer.Write(readOnlyMemory.Span);
                return true;
            case Memory<byte> memory:
                writer.Write(memory.Span);
                return true;
            case ArraySegment<byte> segment:
                writer.Write(segment.AsSpan());
                return true;
            default:
                return false;
        }
    }

    private static bool IsBinaryType(Type type) =>
        type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>) || type == typeof(ArraySegment<byte>)
        || type == typeof(ReadOnlyMemory<byte>?) || type == typeof(Memory<byte>?) || type == typeof(ArraySegment<byte>?);

    private static bool IsBinary(object? value) => value is byte[] or ReadOnlyMemory<byte> or Memory<byte> or ArraySegment<byte>;

    /// <summary>An object or dictionary with at least one byte buffer at its top level, written as a map here.</summary>
    private static bool TryWriteObjectWithBinary(ref MessagePackWriter writer, object value, JsonSerializerOptions options)
    {
        List<(string Name, object? Value, Type Type)> members;
        if (value is IEnumerable<KeyValuePair<string, object?>> dictionary)
        {
            members = [.. dictionary
                .Where(e => e.Value is not null || options.DefaultIgnoreCondition == JsonIgnoreCondition.Never)
                .Select(e => (options.DictionaryKeyPolicy?.ConvertName(e.Key) ?? e.Key, e.Value, e.Value?.GetType() ?? typeof(object)))];
        }
        else
        {
            options.MakeReadOnly(populateMissingResolver: true);
            var info = options.GetTypeInfo(value.GetType());
            if (info.Kind != JsonTypeInfoKind.Object || !info.Properties.Any(p => IsBinaryType(p.PropertyType)))
            {
                return false;
            }

            members = [];
            foreach (var property in info.Properties)
            {
                if (property.Get is null)
                {
                    continue;
                }

                var item = property.Get(value);
                var skip = property.ShouldSerialize is { } should
                    ? !should(value, item)
                    : item is null && options.DefaultIgnoreCondition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault;
                if (!skip)
                {
                    members.Add((property.Name, item, property.PropertyType));
                }
            }
        }

        if (!members.Any(m => IsBinary(m.Value)))
        {
            return false;
        }

        writer.WriteMapHeader(members.Count);
        foreach (var (name, item, type) in members)
        {
            writer.Write(name);
            if (!TryWriteBinary(ref writer, item))
            {
                WriteThroughJson(ref writer, item, type, options);
            }
        }

        return true;
    }

    private static void WriteThroughJson(ref MessagePackWriter writer, object? value, Type type, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteRaw(TaskPayload.FromJson(JsonSerializer.SerializeToElement(value, type, options)).MessagePack.Span);
    }
}
