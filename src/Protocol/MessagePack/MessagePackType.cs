namespace Aicp.Protocol.MessagePack;

/// <summary>The type family of a MessagePack value, as told by its format byte.</summary>
internal enum MessagePackType
{
    /// <summary>A byte no MessagePack format uses (0xc1).</summary>
    Unknown,
    Nil,
    Boolean,
    Integer,
    Float,
    String,
    Binary,
    Array,
    Map,
    Extension,
}
