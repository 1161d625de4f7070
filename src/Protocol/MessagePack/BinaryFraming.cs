using System.Buffers;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// The binary framing of SignalR's MessagePack protocol: each message body is preceded by its length as a VarInt
/// (7 bits per byte, least significant group first, high bit set on every byte but the last; 1 to 5 bytes; at most
/// 0x7fffffff, i.e. 2 GiB - 1).
/// </summary>
internal static class BinaryFraming
{
    /// <summary>The longest length prefix: 0x7fffffff needs 5 bytes.</summary>
    public const int MaxPrefixLength = 5;

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="input"/>. Returns false, leaving the input as it was,
    /// when the prefix or the body has not fully arrived. Throws as soon as the prefix is malformed or announces a
    /// body larger than <paramref name="maxBodyLength"/>, even before the body's bytes are present.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> input, int maxBodyLength, out ReadOnlySequence<byte> body)
    {
        body = default;
        Span<byte> prefix = stackalloc byte[MaxPrefixLength];
        var available = (int)Math.Min(input.Length, MaxPrefixLength);
        input.Slice(0, available).CopyTo(prefix);

        ulong length = 0;
        var prefixLength = 0;
        while (true)
        {
            if (prefixLength == available)
            {
                return false; // the prefix itself is incomplete
            }

            var b = prefix[prefixLength];
            length |= (ulong)(b & 0x7f) << (7 * prefixLength);
            prefixLength++;

            if ((b & 0x80) == 0)
            {
                break;
            }

            if (prefixLength == MaxPrefixLength)
            {
                throw new MessagePackFormatException("The frame length prefix is longer than 5 bytes.");
            }

            // More bytes follow, so the value is at least what we have plus one more set bit above it.
            var lowerBound = length | (1UL << (7 * prefixLength));
            if (lowerBound > (ulong)maxBodyLength)
            {
                throw TooLarge(lowerBound, maxBodyLength, atLeast: true);
            }
        }

        if (length > int.MaxValue)
        {
            throw new MessagePackFormatException($"The frame length {length} exceeds the protocol maximum of {int.MaxValue} bytes.");
        }

        if (length > (ulong)maxBodyLength)
        {
            throw TooLarge(length, maxBodyLength, atLeast: false);
        }

        if (input.Length - prefixLength < (long)length)
        {
            return false; // body not fully here yet
        }

        body = input.Slice(prefixLength, (long)length);
        input = input.Slice(body.End);
        return true;
    }

    public static int GetPrefixLength(int bodyLength)
    {
        var count = 1;
        var value = (uint)bodyLength;
        while (value > 0x7f)
        {
            value >>= 7;
            count++;
        }

        return count;
    }

    /// <summary>Writes the VarInt prefix for a body of <paramref name="bodyLength"/> bytes; returns the bytes written.</summary>
    public static int WritePrefix(int bodyLength, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        var value = (uint)bodyLength;
        var i = 0;
        while (value > 0x7f)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    private static MessagePackFormatException TooLarge(ulong length, int max, bool atLeast) =>
        new($"The frame announces {(atLeast ? "at least " : "")}{length} bytes, more than the limit of {max} bytes.");
}
