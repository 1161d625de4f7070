using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Converts payload values between MessagePack and UTF-8 JSON, so that System.Text.Json can bind arguments and
/// serialize results for the MessagePack hub protocol.
/// </summary>
/// <remarks>
/// MessagePack to JSON: nil, booleans, integers, floats, str, array and map map one-to-one; bin becomes a base64
/// string (which System.Text.Json binds to <c>byte[]</c>); the timestamp extension becomes an ISO 8601 UTC string;
/// integer map keys become their decimal text; NaN and infinities become the strings "NaN", "Infinity",
/// "-Infinity". Other extension types and other key types throw <see cref="NotSupportedException"/>; malformed data
/// throws <see cref="MessagePackFormatException"/>.
/// <para>
/// JSON to MessagePack: object to map, array to array, string to str, true/false, null to nil, a number to the
/// smallest integer format when it is written without fraction or exponent and fits 64 bits, otherwise float64.
/// </para>
/// </remarks>
internal static class MessagePackJsonTranscoder
{
    /// <summary>Options for the internal JSON text: it never leaves the process, so no HTML-safe escaping is needed.</summary>
    internal static readonly JsonWriterOptions JsonWriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Reads one value from <paramref name="reader"/> and writes it as JSON.</summary>
    public static void WriteJson(ref MessagePackReader reader, Utf8JsonWriter writer) => WriteJsonValue(ref reader, writer, 0);

    /// <summary>Converts one MessagePack value (the whole of <paramref name="messagePack"/>) to UTF-8 JSON.</summary>
    public static byte[] ToJson(ReadOnlySpan<byte> messagePack, int maxDepth = MessagePackReader.DefaultMaxDepth)
    {
        var reader = new MessagePackReader(messagePack, maxDepth);
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, JsonWriterOptions))
        {
            WriteJson(ref reader, writer);
        }

        if (!reader.End)
        {
            throw new MessagePackFormatException($"Unexpected data after the value at offset {reader.Position}.");
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Converts one UTF-8 JSON value to MessagePack and writes it.</summary>
    /// <param name="json">A single, complete JSON value.</param>
    /// <param name="writer">Where the MessagePack goes.</param>
    /// <param name="maxDepth">Deepest JSON nesting accepted.</param>
    public static void WriteMessagePack(ReadOnlySpan<byte> json, ref MessagePackWriter writer, int maxDepth = MessagePackReader.DefaultMaxDepth) =>
        WriteMessagePack(json, ref writer, maxDepth, default, default);

    /// <summary>
    /// Converts one UTF-8 JSON value to MessagePack; when <paramref name="replaceName"/> is not empty, the value of
    /// that property of the top-level object (which must be JSON null, a placeholder) is replaced by
    /// <paramref name="replacement"/>, copied as-is. Returns whether the property was found.
    /// </summary>
    public static bool WriteMessagePack(ReadOnlySpan<byte> json, ref MessagePackWriter writer, int maxDepth, ReadOnlySpan<byte> replaceName, ReadOnlySpan<byte> replacement)
    {
        var replaced = replaceName.IsEmpty;
        // MessagePack puts element counts in front of arrays and maps, JSON does not: a first pass counts the
        // children of every container (in document order), the second pass writes.
        var readerOptions = new JsonReaderOptions { MaxDepth = maxDepth };
        var counts = ArrayPool<int>.Shared.Rent(16);
        var containers = 0;
        try
        {
            Span<int> stackStorage = stackalloc int[Math.Min(maxDepth + 1, 256)];
            int[]? rentedStack = null;
            var stack = maxDepth + 1 <= stackStorage.Length ? stackStorage : (rentedStack = ArrayPool<int>.Shared.Rent(maxDepth + 1));
            try
            {
                var depth = 0;
                var reader = new Utf8JsonReader(json, readerOptions);
                while (reader.Read())
                {
                    var token = reader.TokenType;
                    if (token is JsonTokenType.EndArray or JsonTokenType.EndObject)
                    {
                        depth--;
                        continue;
                    }

                    if (depth > 0)
                    {
                        // Stack entries hold (container index << 1) | isArray.
                        var parent = stack[depth - 1];
                        var parentIsArray = (parent & 1) == 1;
                        if (token == JsonTokenType.PropertyName || parentIsArray)
                        {
                            counts[parent >> 1]++;
                        }
                    }

                    if (token is JsonTokenType.StartArray or JsonTokenType.StartObject)
                    {
                        if (containers == counts.Length)
                        {
                            var bigger = ArrayPool<int>.Shared.Rent(counts.Length * 2);
                            counts.AsSpan(0, containers).CopyTo(bigger);
                            ArrayPool<int>.Shared.Return(counts);
                            counts = bigger;
                        }

                        counts[containers] = 0;
                        stack[depth++] = (containers << 1) | (token == JsonTokenType.StartArray ? 1 : 0);
                        containers++;
                    }
                }
            }
            finally
            {
                if (rentedStack is not null)
                {
                    ArrayPool<int>.Shared.Return(rentedStack);
                }
            }

            var container = 0;
            var second = new Utf8JsonReader(json, readerOptions);
            while (second.Read())
            {
                if (!replaced && second.TokenType == JsonTokenType.PropertyName && second.CurrentDepth == 1 && second.ValueTextEquals(replaceName))
                {
                    WriteJsonString(ref second, ref writer);
                    if (!second.Read() || second.TokenType != JsonTokenType.Null)
                    {
                        throw new InvalidOperationException("The placeholder of a raw MessagePack field must be JSON null.");
                    }

                    writer.WriteRaw(replacement);
                    replaced = true;
                    continue;
                }

                switch (second.TokenType)
                {
                    case JsonTokenType.StartArray:
                        writer.WriteArrayHeader(counts[container++]);
                        break;
                    case JsonTokenType.StartObject:
                        writer.WriteMapHeader(counts[container++]);
                        break;
                    case JsonTokenType.EndArray:
                    case JsonTokenType.EndObject:
                        break;
                    case JsonTokenType.PropertyName:
                    case JsonTokenType.String:
                        WriteJsonString(ref second, ref writer);
                        break;
                    case JsonTokenType.Number:
                        if (second.TryGetInt64(out var signed))
                        {
                            writer.Write(signed);
                        }
                        else if (second.TryGetUInt64(out var unsigned))
                        {
                            writer.Write(unsigned);
                        }
                        else
                        {
                            writer.Write(second.GetDouble());
                        }

                        break;
                    case JsonTokenType.True:
                        writer.Write(true);
                        break;
                    case JsonTokenType.False:
                        writer.Write(false);
                        break;
                    case JsonTokenType.Null:
                        writer.WriteNil();
                        break;
                    default:
                        throw new JsonException($"Unexpected JSON token {second.TokenType}.");
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }

        return replaced;
    }

    /// <summary>
    /// Reads a map (the top level of an argument) and writes it as a JSON object, except the entry whose string key
    /// equals <paramref name="field"/> (ASCII case-insensitively) and whose value is not nil: that value is left
    /// out of the JSON and returned in <paramref name="raw"/> as a copy of its MessagePack bytes, after checking that it
    /// would convert to JSON (valid UTF-8, supported keys and extensions), so errors stay the same as when it is
    /// bound through JSON.
    /// </summary>
    public static void WriteJsonObjectCapturing(ref MessagePackReader reader, Utf8JsonWriter writer, ReadOnlySpan<byte> field, out byte[]? raw)
    {
        raw = null;
        reader.CheckDepth(1);
        var count = reader.ReadMapHeader();
        writer.WriteStartObject();
        for (var i = 0; i < count; i++)
        {
            if (reader.NextType == MessagePackType.String)
            {
                var peek = reader;
                var key = peek.ReadStringSpan();
                if (Ascii.EqualsIgnoreCase(key, field) && !peek.End && peek.NextType != MessagePackType.Nil)
                {
                    reader = peek;
                    var check = reader;
                    ValidateValue(ref check, 1);
                    raw = reader.ReadRaw().ToArray(); // the frame buffer is reused
                    continue;
                }
            }

            WritePropertyName(ref reader, writer);
            WriteJsonValue(ref reader, writer, 1);
        }

        writer.WriteEndObject();
    }

    /// <summary>Walks one value the way <see cref="WriteJson"/> would, without writing: same checks, same exceptions.</summary>
    internal static void ValidateValue(ref MessagePackReader reader, int depth)
    {
        switch (reader.NextType)
        {
            case MessagePackType.String:
                ReadValidUtf8(ref reader);
                break;
            case MessagePackType.Array:
            {
                reader.CheckDepth(depth + 1);
                var count = reader.ReadArrayHeader();
                for (var i = 0; i < count; i++)
                {
                    ValidateValue(ref reader, depth + 1);
                }

                break;
            }

            case MessagePackType.Map:
            {
                reader.CheckDepth(depth + 1);
                var count = reader.ReadMapHeader();
                for (var i = 0; i < count; i++)
                {
                    switch (reader.NextType)
                    {
                        case MessagePackType.String:
                            ReadValidUtf8(ref reader);
                            break;
                        case MessagePackType.Integer:
                            reader.Skip();
                            break;
                        default:
                            throw new NotSupportedException($"A map key of type {reader.NextType} (offset {reader.Position}) has no JSON form; keys must be strings or integers.");
                    }

                    ValidateValue(ref reader, depth + 1);
                }

                break;
            }

            case MessagePackType.Extension:
            {
                var start = reader.Position;
                var copy = reader;
                copy.ReadExtension(out var type);
                if (type != MessagePackCode.TimestampExtensionType)
                {
                    throw new NotSupportedException($"MessagePack extension type {type} (offset {start}) has no JSON form and cannot be bound.");
                }

                reader.ReadDateTime();
                break;
            }

            default:
                reader.Skip(); // nil, booleans, numbers, bin: skipping checks them
                break;
        }
    }

    /// <summary>Converts one UTF-8 JSON value to MessagePack bytes.</summary>
    public static byte[] ToMessagePack(ReadOnlySpan<byte> json, int maxDepth = MessagePackReader.DefaultMaxDepth)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        WriteMessagePack(json, ref writer, maxDepth);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteJsonString(ref Utf8JsonReader reader, ref MessagePackWriter writer)
    {
        if (!reader.ValueIsEscaped)
        {
            writer.WriteString(reader.ValueSpan);
            return;
        }

        // Unescaped text is never longer than its escaped form.
        var length = reader.ValueSpan.Length;
        var rented = length > 256 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> scratch = rented ?? stackalloc byte[256];
        try
        {
            var written = reader.CopyString(scratch);
            writer.WriteString(scratch[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void WriteJsonValue(ref MessagePackReader reader, Utf8JsonWriter writer, int depth)
    {
        switch (reader.NextType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    writer.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    writer.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case MessagePackType.Float:
                if (reader.NextCode == MessagePackCode.Float32)
                {
                    var single = reader.ReadSingle();
                    if (float.IsFinite(single))
                    {
                        writer.WriteNumberValue(single);
                    }
                    else
                    {
                        writer.WriteStringValue(NamedLiteral(single));
                    }
                }
                else
                {
                    var number = reader.ReadDouble();
                    if (double.IsFinite(number))
                    {
                        writer.WriteNumberValue(number);
                    }
                    else
                    {
                        writer.WriteStringValue(NamedLiteral(number));
                    }
                }

                break;
            case MessagePackType.String:
                writer.WriteStringValue(ReadValidUtf8(ref reader));
                break;
            case MessagePackType.Binary:
                writer.WriteBase64StringValue(reader.ReadBinary());
                break;
            case MessagePackType.Array:
            {
                reader.CheckDepth(depth + 1);
                var count = reader.ReadArrayHeader();
                writer.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    WriteJsonValue(ref reader, writer, depth + 1);
                }

                writer.WriteEndArray();
                break;
            }

            case MessagePackType.Map:
            {
                reader.CheckDepth(depth + 1);
                var count = reader.ReadMapHeader();
                writer.WriteStartObject();
                for (var i = 0; i < count; i++)
                {
                    WritePropertyName(ref reader, writer);
                    WriteJsonValue(ref reader, writer, depth + 1);
                }

                writer.WriteEndObject();
                break;
            }

            case MessagePackType.Extension:
            {
                var start = reader.Position;
                var copy = reader; // peek at the extension type without consuming
                copy.ReadExtension(out var type);
                if (type != MessagePackCode.TimestampExtensionType)
                {
                    throw new NotSupportedException($"MessagePack extension type {type} (offset {start}) has no JSON form and cannot be bound.");
                }

                writer.WriteStringValue(reader.ReadDateTime().ToString("O", CultureInfo.InvariantCulture));
                break;
            }
        }
    }

    private static void WritePropertyName(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        switch (reader.NextType)
        {
            case MessagePackType.String:
                writer.WritePropertyName(ReadValidUtf8(ref reader));
                break;
            case MessagePackType.Integer:
                var text = reader.NextCode == MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(CultureInfo.InvariantCulture);
                writer.WritePropertyName(text);
                break;
            default:
                throw new NotSupportedException($"A map key of type {reader.NextType} (offset {reader.Position}) has no JSON form; keys must be strings or integers.");
        }
    }

    private static ReadOnlySpan<byte> ReadValidUtf8(ref MessagePackReader reader)
    {
        var start = reader.Position;
        var utf8 = reader.ReadStringSpan();
        if (!Utf8.IsValid(utf8))
        {
            throw new MessagePackFormatException($"The string at offset {start} is not valid UTF-8.");
        }

        return utf8;
    }

    private static string NamedLiteral(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
