using System.Buffers;
using MessagePack;
using MessagePack.Formatters;

namespace Aicp.Protocol.Serialization;

/// <summary>
/// Reads and writes a <see cref="TaskPayload"/> in MessagePack. Reading checks the value (iteratively, at most
/// <see cref="TaskPayload.MaxDepth"/> deep; the library's <c>ReadRaw</c> applies no depth limit) and keeps a copy of
/// its bytes (SignalR reuses its input buffer once a message is parsed); writing copies those bytes unchanged, or
/// converts a JSON value.
/// </summary>
internal sealed class TaskPayloadFormatter : IMessagePackFormatter<TaskPayload?>
{
    public void Serialize(ref MessagePackWriter writer, TaskPayload? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
        }
        else if (value.IsMessagePack)
        {
            writer.WriteRaw(value.MessagePack.Span);
        }
        else
        {
            MessagePackJson.WriteJson(ref writer, value.Json);
        }
    }

    public TaskPayload? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var start = reader.Position;
        MessagePackJson.Walk(ref reader, json: null, TaskPayload.MaxDepth);
        return TaskPayload.FromCheckedMessagePack(reader.Sequence.Slice(start, reader.Position).ToArray());
    }
}
