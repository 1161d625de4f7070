namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Thrown when MessagePack input is malformed: truncated data, an unknown format byte, a value of the wrong type,
/// a length that exceeds the bytes present, nesting deeper than allowed, or a frame that breaks the hub protocol.
/// </summary>
/// <remarks>
/// SignalR closes a connection whose protocol throws while parsing, whatever the exception type; this one derives
/// from <see cref="FormatException"/> (<see cref="InvalidDataException"/> is sealed).
/// </remarks>
public sealed class MessagePackFormatException : FormatException
{
    public MessagePackFormatException(string message)
        : base(message)
    {
    }

    public MessagePackFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
