using System.Globalization;
using MessagePack;
using MessagePack.Formatters;

namespace Aicp.Hub.Observability;

/// <summary>
/// Writes a status record's times over MessagePack as ISO 8601 strings, the form the status API has in JSON, instead of
/// the MessagePack library's default for <see cref="DateTimeOffset"/> (an array of a timestamp and an offset).
/// </summary>
public sealed class Iso8601DateFormatter : IMessagePackFormatter<DateTimeOffset>, IMessagePackFormatter<DateTimeOffset?>
{
    public void Serialize(ref MessagePackWriter writer, DateTimeOffset value, MessagePackSerializerOptions options) =>
        writer.Write(value.ToString("O", CultureInfo.InvariantCulture));

    public void Serialize(ref MessagePackWriter writer, DateTimeOffset? value, MessagePackSerializerOptions options)
    {
        if (value is { } time)
        {
            Serialize(ref writer, time, options);
        }
        else
        {
            writer.WriteNil();
        }
    }

    public DateTimeOffset Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        DateTimeOffset.Parse(reader.ReadString() ?? throw new MessagePackSerializationException("A time is a string."), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    DateTimeOffset? IMessagePackFormatter<DateTimeOffset?>.Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        reader.TryReadNil() ? null : Deserialize(ref reader, options);
}
