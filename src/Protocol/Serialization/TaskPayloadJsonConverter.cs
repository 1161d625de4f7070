using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aicp.Protocol.Serialization;

/// <summary>
/// Reads a <see cref="TaskPayload"/> as the JSON value it is, and writes its JSON form: the value itself, or a
/// MessagePack value converted on the fly (<c>bin</c> as base64, timestamps as ISO 8601 strings). A JSON value is
/// written as the text it was read from (one copy of its bytes: it was checked when its document was parsed).
/// </summary>
internal sealed class TaskPayloadJsonConverter : JsonConverter<TaskPayload>
{
    public override TaskPayload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TaskPayload.FromOwnedJson(JsonElement.ParseValue(ref reader));

    public override void Write(Utf8JsonWriter writer, TaskPayload value, JsonSerializerOptions options)
    {
        if (!value.IsMessagePack)
        {
            writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value.Json), skipInputValidation: true);
            return;
        }

        var reader = new MessagePack.MessagePackReader(value.MessagePack);
        MessagePackJson.Walk(ref reader, writer, TaskPayload.MaxDepth);
    }
}
