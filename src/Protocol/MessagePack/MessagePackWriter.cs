using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Writes MessagePack values to an <see cref="IBufferWriter{T}"/>. Integers, lengths and extension headers always use
/// the smallest format that holds the value; <see cref="float"/> is written as float32 and <see cref="double"/> as
/// float64 (never narrowed).
/// </summary>
internal readonly struct MessagePackWriter
{
    private readonly IBufferWriter<byte> _output;

    public MessagePackWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    public void WriteNil() => WriteCode(MessagePackCode.Nil);

    public void Write(bool value) => WriteCode(value ? MessagePackCode.True : MessagePackCode.False);

    public void Write(int value) => Write((long)value);

    public void Write(long value)
    {
        if (value >= 0)
        {
            Write((ulong)value);
        }
        else if (value >= -32)
        {
            // Negative fixint: 111xxxxx is the two's complement byte of the value itself.
            WriteCode(unchecked((byte)(sbyte)value));
        }
        else if (value >= sbyte.MinValue)
        {
            var span = _output.GetSpan(2);
            span[0] = MessagePackCode.Int8;
            span[1] = unchecked((byte)(sbyte)value);
            _output.Advance(2);
        }
        else if (value >= short.MinValue)
        {
            var span = _output.GetSpan(3);
            span[0] = MessagePackCode.Int16;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
            _output.Advance(3);
        }
        else if (value >= int.MinValue)
        {
            var span = _output.GetSpan(5);
            span[0] = MessagePackCode.Int32;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
            _output.Advance(5);
        }
        else
        {
            var span = _output.GetSpan(9);
            span[0] = MessagePackCode.Int64;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            _output.Advance(9);
        }
    }

    public void Write(ulong value)
    {
        if (value <= MessagePackCode.MaxPositiveFixInt)
        {
            WriteCode((byte)value);
        }
        else if (value <= byte.MaxValue)
        {
            var span = _output.GetSpan(2);
            span[0] = MessagePackCode.UInt8;
            span[1] = (byte)value;
            _output.Advance(2);
        }
        else if (value <= ushort.MaxValue)
        {
            var span = _output.GetSpan(3);
            span[0] = MessagePackCode.UInt16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
            _output.Advance(3);
        }
        else if (value <= uint.MaxValue)
        {
            var span = _output.GetSpan(5);
            span[0] = MessagePackCode.UInt32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
            _output.Advance(5);
        }
        else
        {
            var span = _output.GetSpan(9);
            span[0] = MessagePackCode.UInt64;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            _output.Advance(9);
        }
    }

    public void Write(float value)
    {
        var span = _output.GetSpan(5);
        span[0] = MessagePackCode.Float32;
        BinaryPrimitives.WriteSingleBigEndian(span[1..], value);
        _output.Advance(5);
    }

    public void Write(double value)
    {
        var span = _output.GetSpan(9);
        span[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    /// <summary>Writes a str, or nil for <see langword="null"/>. Lone surrogates become U+FFFD.</summary>
    public void Write(string? value)
    {
        if (value is null)
        {
            WriteNil();
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteStringHeader(byteCount);
        if (byteCount > 0)
        {
            var span = _output.GetSpan(byteCount);
            var written = Encoding.UTF8.GetBytes(value, span);
            _output.Advance(written);
        }
    }

    /// <summary>Writes a str whose bytes are already UTF-8.</summary>
    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        WriteRaw(utf8);
    }

    public void WriteStringHeader(int byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        if (byteCount <= 31)
        {
            WriteCode((byte)(MessagePackCode.MinFixStr | byteCount));
        }
        else if (byteCount <= byte.MaxValue)
        {
            WriteCodeAndLength8(MessagePackCode.Str8, (byte)byteCount);
        }
        else if (byteCount <= ushort.MaxValue)
        {
            WriteCodeAndLength16(MessagePackCode.Str16, (ushort)byteCount);
        }
        else
        {
            WriteCodeAndLength32(MessagePackCode.Str32, (uint)byteCount);
        }
    }

    public void WriteBinary(ReadOnlySpan<byte> bytes)
    {
        WriteBinaryHeader(bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteBinaryHeader(int byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        if (byteCount <= byte.MaxValue)
        {
            WriteCodeAndLength8(MessagePackCode.Bin8, (byte)byteCount);
        }
        else if (byteCount <= ushort.MaxValue)
        {
            WriteCodeAndLength16(MessagePackCode.Bin16, (ushort)byteCount);
        }
        else
        {
            WriteCodeAndLength32(MessagePackCode.Bin32, (uint)byteCount);
        }
    }

    public void WriteArrayHeader(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count <= 15)
        {
            WriteCode((byte)(MessagePackCode.MinFixArray | count));
        }
        else if (count <= ushort.MaxValue)
        {
            WriteCodeAndLength16(MessagePackCode.Array16, (ushort)count);
        }
        else
        {
            WriteCodeAndLength32(MessagePackCode.Array32, (uint)count);
        }
    }

    public void WriteMapHeader(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count <= 15)
        {
            WriteCode((byte)(MessagePackCode.MinFixMap | count));
        }
        else if (count <= ushort.MaxValue)
        {
            WriteCodeAndLength16(MessagePackCode.Map16, (ushort)count);
        }
        else
        {
            WriteCodeAndLength32(MessagePackCode.Map32, (uint)count);
        }
    }

    /// <summary>Writes an extension header: fixext for 1/2/4/8/16 bytes, else ext8/16/32.</summary>
    public void WriteExtensionHeader(sbyte type, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte fixCode = length switch
        {
            1 => MessagePackCode.FixExt1,
            2 => MessagePackCode.FixExt2,
            4 => MessagePackCode.FixExt4,
            8 => MessagePackCode.FixExt8,
            16 => MessagePackCode.FixExt16,
            _ => 0,
        };

        if (fixCode != 0)
        {
            var span = _output.GetSpan(2);
            span[0] = fixCode;
            span[1] = unchecked((byte)type);
            _output.Advance(2);
        }
        else if (length <= byte.MaxValue)
        {
            var span = _output.GetSpan(3);
            span[0] = MessagePackCode.Ext8;
            span[1] = (byte)length;
            span[2] = unchecked((byte)type);
            _output.Advance(3);
        }
        else if (length <= ushort.MaxValue)
        {
            var span = _output.GetSpan(4);
            span[0] = MessagePackCode.Ext16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            span[3] = unchecked((byte)type);
            _output.Advance(4);
        }
        else
        {
            var span = _output.GetSpan(6);
            span[0] = MessagePackCode.Ext32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            span[5] = unchecked((byte)type);
            _output.Advance(6);
        }
    }

    public void WriteExtension(sbyte type, ReadOnlySpan<byte> data)
    {
        WriteExtensionHeader(type, data.Length);
        WriteRaw(data);
    }

    /// <summary>
    /// Writes the timestamp extension (type -1) in its smallest form: 32-bit when there are no nanoseconds and the
    /// seconds fit an unsigned 32-bit number, 64-bit when the seconds fit 34 unsigned bits, else 96-bit.
    /// </summary>
    public void WriteTimestamp(long seconds, uint nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(nanoseconds, 1_000_000_000u);
        if ((seconds >> 34) == 0)
        {
            if (nanoseconds == 0 && seconds <= uint.MaxValue)
            {
                WriteExtensionHeader(MessagePackCode.TimestampExtensionType, 4);
                var span = _output.GetSpan(4);
                BinaryPrimitives.WriteUInt32BigEndian(span, (uint)seconds);
                _output.Advance(4);
            }
            else
            {
                WriteExtensionHeader(MessagePackCode.TimestampExtensionType, 8);
                var span = _output.GetSpan(8);
                BinaryPrimitives.WriteUInt64BigEndian(span, ((ulong)nanoseconds << 34) | (ulong)seconds);
                _output.Advance(8);
            }
        }
        else
        {
            WriteExtensionHeader(MessagePackCode.TimestampExtensionType, 12);
            var span = _output.GetSpan(12);
            BinaryPrimitives.WriteUInt32BigEndian(span, nanoseconds);
            BinaryPrimitives.WriteInt64BigEndian(span[4..], seconds);
            _output.Advance(12);
        }
    }

    /// <summary>Writes a <see cref="DateTime"/> as a timestamp. Local times are converted to UTC; unspecified ones are taken as UTC.</summary>
    public void Write(DateTime value)
    {
        if (value.Kind == DateTimeKind.Local)
        {
            value = value.ToUniversalTime();
        }

        var ticks = value.Ticks - DateTime.UnixEpoch.Ticks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainderTicks);
        if (remainderTicks < 0)
        {
            seconds--;
            remainderTicks += TimeSpan.TicksPerSecond;
        }

        WriteTimestamp(seconds, (uint)(remainderTicks * 100));
    }

    /// <summary>Copies bytes that already hold MessagePack data.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            // One request for the whole length: a growable buffer then grows once instead of doubling step by step.
            var span = _output.GetSpan(bytes.Length);
            bytes.CopyTo(span);
            _output.Advance(bytes.Length);
        }
    }

    private void WriteCode(byte code)
    {
        var span = _output.GetSpan(1);
        span[0] = code;
        _output.Advance(1);
    }

    private void WriteCodeAndLength8(byte code, byte length)
    {
        var span = _output.GetSpan(2);
        span[0] = code;
        span[1] = length;
        _output.Advance(2);
    }

    private void WriteCodeAndLength16(byte code, ushort length)
    {
        var span = _output.GetSpan(3);
        span[0] = code;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], length);
        _output.Advance(3);
    }

    private void WriteCodeAndLength32(byte code, uint length)
    {
        var span = _output.GetSpan(5);
        span[0] = code;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], length);
        _output.Advance(5);
    }
}
