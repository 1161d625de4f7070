using System.Text.Json;
using Aicp.Agent.Sdk.Serialization;
using MessagePack;

namespace Aicp.Tests.Sdk.Serialization;

public sealed class PayloadSerializerTests
{
    private static Dictionary<string, MessagePackType> TopLevelTypes(ReadOnlyMemory<byte> messagePack)
    {
        var reader = new MessagePackReader(messagePack);
        var types = new Dictionary<string, MessagePackType>();
        for (var count = reader.ReadMapHeader(); count > 0; count--)
        {
            var key = reader.ReadString()!;
            types[key] = reader.NextMessagePackType;
            reader.Skip();
        }

        return types;
    }

    [Fact]
    public void Create_MessagePack_TopLevelByteBuffersAsBin_NamesCamelCase_NullsLeftOut()
    {
        var payload = PayloadSerializer.Create(new
        {
            Image = new byte[] { 1, 2 }, Memory = new ReadOnlyMemory<byte>([3]), Name = "cat", Missing = (string?)null,
            Nested = new { Bytes = new byte[] { 4 } },
        }, messagePack: true)!;

        Assert.True(payload.IsMessagePack);
        var types = TopLevelTypes(payload.MessagePack);
        Assert.Equal(["image", "memory", "name", "nested"], types.Keys);
        Assert.Equal(MessagePackType.Binary, types["image"]);
        Assert.Equal(MessagePackType.Binary, types["memory"]);
        Assert.Equal(MessagePackType.String, types["name"]);
        Assert.Equal("BA==", payload.Json.GetProperty("nested").GetProperty("bytes").GetString()); // deeper: base64, as in JSON
    }

    [Fact]
    public void Create_MessagePack_DictionaryAndBareBuffer()
    {
        var dictionary = PayloadSerializer.Create(new Dictionary<string, object?> { ["blob"] = new byte[] { 9 }, ["k"] = 2, ["none"] = null }, messagePack: true)!;
        Assert.Equal([MessagePackType.Binary, MessagePackType.Integer], TopLevelTypes(dictionary.MessagePack).Values);

        var bare = PayloadSerializer.Create(new byte[] { 7, 8 }, messagePack: true)!;
        Assert.Equal(new byte[] { 0xc4, 0x02, 7, 8 }, bare.MessagePack.ToArray());
    }

    [Fact]
    public void Create_NoBinary_SameValueOnEitherProtocol()
    {
        var value = new { Index = 3, Text = "x", Ratio = 0.25, Tags = new[] { "a" } };

        var json = PayloadSerializer.Create(value, messagePack: false)!;
        var messagePack = PayloadSerializer.Create(value, messagePack: true)!;

        Assert.False(json.IsMessagePack);
        Assert.True(messagePack.IsMessagePack);
        Assert.Equal("""{"index":3,"text":"x","ratio":0.25,"tags":["a"]}""", json.Json.GetRawText());
        Assert.Equal(json.Json.GetRawText(), messagePack.Json.GetRawText());
    }

    [Fact]
    public void Create_NullOrJsonElement_NoneOrAsGiven()
    {
        Assert.Null(PayloadSerializer.Create(null, messagePack: true));

        var element = JsonDocument.Parse("""{"a":[1,2]}""").RootElement;
        var payload = PayloadSerializer.Create(element, messagePack: true)!;
        Assert.False(payload.IsMessagePack); // converted by the protocol when it is written
        Assert.Equal("""{"a":[1,2]}""", payload.Json.GetRawText());
    }
}
