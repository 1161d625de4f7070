using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Payloads and results as raw MessagePack (<see cref="TaskRequest.PayloadMessagePack"/> and friends): building
/// them from .NET objects with byte buffers as <c>bin</c>, and reading <c>bin</c> fields without base64.
/// </summary>
public static class MessagePackPayload
{
    /// <summary>
    /// Serializes <paramref name="value"/> to one MessagePack value. Byte buffers (<c>byte[]</c>,
    /// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>Memory&lt;byte&gt;</c>, <c>ArraySegment&lt;byte&gt;</c>) become
    /// <c>bin</c> when they are the value itself, a property of the top-level object, or a value of a top-level
    /// string-keyed dictionary; everything else follows System.Text.Json with <paramref name="options"/> (names,
    /// ignore conditions), converted to MessagePack (so deeper byte arrays are base64 strings, as in JSON).
    /// A <see cref="JsonElement"/> is converted as it is.
    /// </summary>
    public static byte[] Serialize(object? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var output = new PooledBufferWriter();
        var writer = new MessagePackWriter(output);
        if (!TryWriteBinary(ref writer, value) && !TryWriteObjectWithBinary(ref writer, value, options))
        {
            WriteThroughJson(ref writer, value, value?.GetType() ?? typeof(object), options);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Finds the <c>bin</c> value of property <paramref name="name"/> (ASCII case-insensitive) of a top-level map,
    /// or, with a null <paramref name="name"/>, the value itself when it is <c>bin</c>. The bytes are a slice of
    /// <paramref name="messagePack"/>: nothing is copied or decoded. False when there is no such <c>bin</c> value.
    /// </summary>
    public static bool TryGetBinary(ReadOnlyMemory<byte> messagePack, string? name, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        try
        {
            var reader = new MessagePackReader(messagePack.Span);
            return (name is null ? !reader.End : TryFindProperty(ref reader, name))
                && reader.NextType == MessagePackType.Binary && Slice(ref reader, messagePack, out bytes);
        }
        catch (MessagePackFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads the integer value of property <paramref name="name"/> (ASCII case-insensitive) of a top-level map
    /// without building a JSON view of the rest. False when there is no such property or it is not an integer.
    /// </summary>
    public static bool TryGetInt64(ReadOnlyMemory<byte> messagePack, string name, out long value)
    {
        value = 0;
        try
        {
            var reader = new MessagePackReader(messagePack.Span);
            if (!TryFindProperty(ref reader, name) || reader.NextType != MessagePackType.Integer)
            {
                return false;
            }

            value = reader.ReadInt64();
            return true;
        }
        catch (MessagePackFormatException)
        {
            return false;
        }
    }

    /// <summary>Moves the reader of a top-level map to the value of property <paramref name="name"/>.</summary>
    private static bool TryFindProperty(ref MessagePackReader reader, string name)
    {
        if (reader.End || reader.NextType != MessagePackType.Map)
        {
            return false;
        }

        var key = Encoding.UTF8.GetBytes(name);
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            if (reader.NextType == MessagePackType.String)
            {
                if (System.Text.Ascii.EqualsIgnoreCase(reader.ReadStringSpan(), key))
                {
                    return true;
                }
            }
            else
            {
                reader.Skip(); // a non-string key
            }

            reader.Skip(); // the value of a key that did not match
        }

        return false;
    }

    private static bool Slice(ref MessagePackReader reader, ReadOnlyMemory<byte> source, out ReadOnlyMemory<byte> bytes)
    {
        var length = reader.ReadBinary().Length;
        bytes = source.Slice(reader.Position - length, length);
        return true;
    }

    private static bool TryWriteBinary(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case byte[] array:
                writer.WriteBinary(array);
                return true;
            case ReadOnlyMemory<byte> readOnlyMemory:
                writer.WriteBinary(readOnlyMemory.Span);
                return true;
            case Memory<byte> memory:
                writer.WriteBinary(memory.Span);
                return true;
            case ArraySegment<byte> segment:
                writer.WriteBinary(segment);
                return true;
            default:
                return false;
        }
    }

    private static bool IsBinaryType(Type type) =>
        type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>) || type == typeof(ArraySegment<byte>)
        || type == typeof(ReadOnlyMemory<byte>?) || type == typeof(Memory<byte>?) || type == typeof(ArraySegment<byte>?);

    /// <summary>An object or dictionary with at least one byte buffer at its top level, written as a map by hand.</summary>
    private static bool TryWriteObjectWithBinary(ref MessagePackWriter writer, object? value, JsonSerializerOptions options)
    {
        if (value is null or JsonElement or string)
        {
            return false;
        }

        if (value is IEnumerable<KeyValuePair<string, object?>> dictionary)
        {
            var entries = dictionary.ToList();
            if (!entries.Any(e => e.Value is not null && IsBinaryType(e.Value.GetType())))
            {
                return false;
            }

            var written = entries.Where(e => e.Value is not null || options.DefaultIgnoreCondition == JsonIgnoreCondition.Never).ToList();
            writer.WriteMapHeader(written.Count);
            foreach (var (key, item) in written)
            {
                writer.Write(options.DictionaryKeyPolicy?.ConvertName(key) ?? key);
                if (!TryWriteBinary(ref writer, item))
                {
                    WriteThroughJson(ref writer, item, item?.GetType() ?? typeof(object), options);
                }
            }

            return true;
        }

        options.MakeReadOnly(populateMissingResolver: true);
        var info = options.GetTypeInfo(value.GetType());
        if (info.Kind != JsonTypeInfoKind.Object || !info.Properties.Any(p => IsBinaryType(p.PropertyType) && p.Get is not null))
        {
            return false;
        }

        var properties = new List<(string Name, object? Value, Type Type)>(info.Properties.Count);
        foreach (var property in info.Properties)
        {
            if (property.Get is null)
            {
                continue;
            }

            var item = property.Get(value);
            if (property.ShouldSerialize is { } should ? !should(value, item) : item is null && options.DefaultIgnoreCondition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault)
            {
                continue;
            }

            properties.Add((property.Name, item, property.PropertyType));
        }

        writer.WriteMapHeader(properties.Count);
        foreach (var (name, item, type) in properties)
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

        using var json = new PooledBufferWriter();
        using (var jsonWriter = new Utf8JsonWriter(json, MessagePackJsonTranscoder.JsonWriterOptions))
        {
            JsonSerializer.Serialize(jsonWriter, value, type, options);
        }

        var depth = options.MaxDepth > 0 ? options.MaxDepth : MessagePackReader.DefaultMaxDepth;
        MessagePackJsonTranscoder.WriteMessagePack(json.WrittenSpan, ref writer, depth);
    }
}
