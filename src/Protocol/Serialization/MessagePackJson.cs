using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MessagePack;

namespace Aicp.Protocol.Serialization;

/// <summary>
/// Conversions between one MessagePack value and JSON for <see cref="TaskPayload"/>. The MessagePack library has
/// <c>MessagePackSerializer.ConvertToJson</c>, but it recurses without a depth limit (a deep enough value overflows
/// the stack) and writes invalid JSON for control characters and NaN; <see cref="Walk"/> is iterative, bounded and
/// writes through <see cref="Utf8JsonWriter"/>.
/// </summary>
internal static class MessagePackJson
{
    /// <summary>
    /// Reads one MessagePack value, checking that it has a JSON form, and writes that form to <paramref name="json"/>
    /// when one is given. Iterative: at most <paramref name="maxDepth"/> nested arrays and maps, whatever the input.
    /// </summary>
    /// <exception cref="MessagePackSerializationException">The value has no JSON form or nests too deep.</exception>
    /// <exception cref="EndOfStreamException">The value is truncated.</exception>
    public static void Walk(ref MessagePackReader reader, Utf8JsonWriter? json, int maxDepth)
    {
        // left[d]: items still to read in the container open at depth d (keys and values for a map); left[0] is the value itself.
        Span<long> left = stackalloc long[maxDepth + 1];
        Span<bool> isMap = stackalloc bool[maxDepth + 1];
        var depth = 0;
        left[0] = 1;
        while (true)
        {
            if (left[depth] == 0)
            {
                if (depth == 0)
                {
                    return;
                }

                if (isMap[depth])
                {
                    json?.WriteEndObject();
                }
                else
                {
                    json?.WriteEndArray();
                }

                depth--;
                continue;
            }

            var isKey = isMap[depth] && left[depth] % 2 == 0;
            left[depth]--;
            if (isKey)
            {
                ReadKey(ref reader, json);
                continue;
            }

            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                case MessagePackType.Map:
                    var map = reader.NextMessagePackType == MessagePackType.Map;
                    if (depth == maxDepth)
                    {
                        throw new MessagePackSerializationException($"The value nests more than {maxDepth} arrays and maps.");
                    }

                    depth++;
                    isMap[depth] = map;
                    left[depth] = map ? 2L * reader.ReadMapHeader() : reader.ReadArrayHeader();
                    if (map)
                    {
                        json?.WriteStartObject();
                    }
                    else
                    {
                        json?.WriteStartArray();
                    }

                    break;
                default:
                    ReadScalar(ref reader, json);
                    break;
            }
        }
    }

    /// <summary>Writes a JSON value as MessagePack: integers that fit 64 bits as integers, other numbers as float64.</summary>
    public static void WriteJson(ref MessagePackWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteMapHeader(value.GetPropertyCount());
                foreach (var property in value.EnumerateObject())
                {
                    writer.Write(property.Name);
                    WriteJson(ref writer, property.Value);
                }

                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                {
                    WriteJson(ref writer, item);
                }

                break;
            case JsonValueKind.String:
                writer.Write(value.GetString());
                break;
            case JsonValueKind.Number when value.TryGetInt64(out var signed):
                writer.Write(signed);
                break;
            case JsonValueKind.Number when value.TryGetUInt64(out var unsigned):
                writer.Write(unsigned);
                break;
            case JsonValueKind.Number:
                // Beyond double's range the number becomes an infinity, as double.Parse has it.
                writer.Write(double.Parse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture));
                break;
            case JsonValueKind.True:
            case JsonValueKind.False:
                writer.Write(value.GetBoolean());
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    private static void ReadKey(ref MessagePackReader reader, Utf8JsonWriter? json)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                var name = Utf8(reader.ReadStringSequence());
                json?.WritePropertyName(name.Span);
                break;
            case MessagePackType.Integer:
                var number = reader.NextCode == MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(CultureInfo.InvariantCulture);
                json?.WritePropertyName(number);
                break;
            default:
                throw new MessagePackSerializationException($"A map key must be a string or an integer, not {reader.NextMessagePackType}.");
        }
    }

    private static void ReadScalar(ref MessagePackReader reader, Utf8JsonWriter? json)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                json?.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                var flag = reader.ReadBoolean();
                json?.WriteBooleanValue(flag);
                break;
            case MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64:
                var unsigned = reader.ReadUInt64();
                json?.WriteNumberValue(unsigned);
                break;
            case MessagePackType.Integer:
                var signed = reader.ReadInt64();
                json?.WriteNumberValue(signed);
                break;
            case MessagePackType.Float:
                var single = reader.NextCode == MessagePackCode.Float32;
                var number = single ? reader.ReadSingle() : reader.ReadDouble();
                if (!double.IsFinite(number))
                {
                    json?.WriteStringValue(double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
                }
                else if (single)
                {
                    json?.WriteNumberValue((float)number); // the shortest text that reads back as the same float32
                }
                else
                {
                    json?.WriteNumberValue(number);
                }

                break;
            case MessagePackType.String:
                var text = Utf8(reader.ReadStringSequence());
                json?.WriteStringValue(text.Span);
                break;
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes()!.Value;
                json?.WriteBase64StringValue(bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray());
                break;
            case MessagePackType.Extension:
                var header = reader.CreatePeekReader().ReadExtensionFormatHeader();
                if (header.TypeCode != ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    throw new MessagePackSerializationException($"Extension type {header.TypeCode} has no JSON form; only timestamps (-1) do.");
                }

                var time = reader.ReadDateTime();
                json?.WriteStringValue(time);
                break;
            default:
                throw new MessagePackSerializationException($"Unexpected MessagePack code 0x{reader.NextCode:x2}.");
        }
    }

    private static ReadOnlyMemory<byte> Utf8(ReadOnlySequence<byte>? text)
    {
        ReadOnlyMemory<byte> bytes = text is { IsSingleSegment: true } single ? single.First : text?.ToArray() ?? default;
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
        {
            throw new MessagePackSerializationException("A string is not valid UTF-8.");
        }

        return bytes;
    }
}
