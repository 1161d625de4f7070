using System.Buffers.Binary;
using System.Text;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Reads MessagePack values from a span, accepting every format of the specification.
/// </summary>
/// <remarks>
/// Built for untrusted input: a length or element count is checked against the bytes that remain before anything
/// is sliced or allocated, so a forged header cannot make the reader allocate; <see cref="Skip"/> stops at
/// <see cref="MaxDepth"/> nested arrays/maps instead of recursing without bound. Every failure is a
/// <see cref="MessagePackFormatException"/> that names the offset.
/// </remarks>
internal ref struct MessagePackReader
{
    /// <summary>The default nesting limit for arrays and maps. The default value is 64.</summary>
    public const int DefaultMaxDepth = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public MessagePackReader(ReadOnlySpan<byte> buffer, int maxDepth = DefaultMaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDepth);
        _buffer = buffer;
        _position = 0;
        MaxDepth = maxDepth;
    }

    /// <summary>How many arrays/maps may nest inside one another (<see cref="Skip"/> and the JSON transcoder enforce it).</summary>
    public int MaxDepth { get; }

    /// <summary>Offset of the next byte to read.</summary>
    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position >= _buffer.Length;

    /// <summary>The format byte of the next value, without consuming it.</summary>
    public readonly byte NextCode
    {
        get
        {
            if (_position >= _buffer.Length)
            {
                throw Truncated(1);
            }

            return _buffer[_position];
        }
    }

    /// <summary>The type of the next value; throws for the unused format byte 0xc1.</summary>
    public readonly MessagePackType NextType
    {
        get
        {
            var code = NextCode;
            var type = MessagePackCode.GetType(code);
            if (type == MessagePackType.Unknown)
            {
                throw UnknownFormat(code);
            }

            return type;
        }
    }

    public bool TryReadNil()
    {
        if (NextCode == MessagePackCode.Nil)
        {
            _position++;
            return true;
        }

        return false;
    }

    public void ReadNil()
    {
        if (!TryReadNil())
        {
            throw WrongType("nil");
        }
    }

    public bool ReadBoolean()
    {
        switch (NextCode)
        {
            case MessagePackCode.True:
                _position++;
                return true;
            case MessagePackCode.False:
                _position++;
                return false;
            default:
                throw WrongType("a boolean");
        }
    }

    /// <summary>Reads any integer format; a uint64 above <see cref="long.MaxValue"/> throws.</summary>
    public long ReadInt64()
    {
        var code = NextCode;
        if (code == MessagePackCode.UInt64)
        {
            var value = BinaryPrimitives.ReadUInt64BigEndian(Take(9)[1..]);
            if (value > long.MaxValue)
            {
                throw Error(_position - 9, $"The integer {value} does not fit a signed 64-bit integer.");
            }

            return (long)value;
        }

        return ReadSignedOrSmall(code);
    }

    /// <summary>Reads any integer format; a negative value throws.</summary>
    public ulong ReadUInt64()
    {
        var code = NextCode;
        if (code == MessagePackCode.UInt64)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(Take(9)[1..]);
        }

        var start = _position;
        var value = ReadSignedOrSmall(code);
        if (value < 0)
        {
            throw Error(start, $"The integer {value} is negative where an unsigned integer is required.");
        }

        return (ulong)value;
    }

    public int ReadInt32()
    {
        var start = _position;
        var value = ReadInt64();
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Error(start, $"The integer {value} does not fit a 32-bit integer.");
        }

        return (int)value;
    }

    /// <summary>Reads float64, float32 or any integer as a <see cref="double"/>.</summary>
    public double ReadDouble()
    {
        switch (NextCode)
        {
            case MessagePackCode.Float64:
                return BinaryPrimitives.ReadDoubleBigEndian(Take(9)[1..]);
            case MessagePackCode.Float32:
                return BinaryPrimitives.ReadSingleBigEndian(Take(5)[1..]);
            case MessagePackCode.UInt64:
                return ReadUInt64();
            default:
                if (NextType != MessagePackType.Integer)
                {
                    throw WrongType("a number");
                }

                return ReadInt64();
        }
    }

    /// <summary>Reads float32 exactly; float64 and integers are narrowed to <see cref="float"/>.</summary>
    public float ReadSingle()
    {
        if (NextCode == MessagePackCode.Float32)
        {
            return BinaryPrimitives.ReadSingleBigEndian(Take(5)[1..]);
        }

        return (float)ReadDouble();
    }

    /// <summary>Reads a str and returns its UTF-8 bytes (not validated).</summary>
    public ReadOnlySpan<byte> ReadStringSpan()
    {
        var code = NextCode;
        int headerLength;
        uint length;
        if (code is >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr)
        {
            headerLength = 1;
            length = (uint)(code & 0x1f);
        }
        else
        {
            switch (code)
            {
                case MessagePackCode.Str8:
                    headerLength = 2;
                    length = Peek(2)[1];
                    break;
                case MessagePackCode.Str16:
                    headerLength = 3;
                    length = BinaryPrimitives.ReadUInt16BigEndian(Peek(3)[1..]);
                    break;
                case MessagePackCode.Str32:
                    headerLength = 5;
                    length = BinaryPrimitives.ReadUInt32BigEndian(Peek(5)[1..]);
                    break;
                default:
                    throw WrongType("a string");
            }
        }

        return TakePayload(headerLength, length, "string");
    }

    /// <summary>Reads a str (validated as UTF-8), or nil as <see langword="null"/>.</summary>
    public string? ReadString()
    {
        if (TryReadNil())
        {
            return null;
        }

        var start = _position;
        var utf8 = ReadStringSpan();
        try
        {
            return StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new MessagePackFormatException($"The string at offset {start} is not valid UTF-8.", ex);
        }
    }

    /// <summary>Reads a bin value and returns its bytes.</summary>
    public ReadOnlySpan<byte> ReadBinary()
    {
        int headerLength;
        uint length;
        switch (NextCode)
        {
            case MessagePackCode.Bin8:
                headerLength = 2;
                length = Peek(2)[1];
                break;
            case MessagePackCode.Bin16:
                headerLength = 3;
                length = BinaryPrimitives.ReadUInt16BigEndian(Peek(3)[1..]);
                break;
            case MessagePackCode.Bin32:
                headerLength = 5;
                length = BinaryPrimitives.ReadUInt32BigEndian(Peek(5)[1..]);
                break;
            default:
                throw WrongType("binary data");
        }

        return TakePayload(headerLength, length, "binary");
    }

    /// <summary>Reads an array header. The count is checked against the bytes left (every element needs one).</summary>
    public int ReadArrayHeader()
    {
        var start = _position;
        var code = NextCode;
        uint count;
        if (code is >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray)
        {
            _position++;
            count = (uint)(code & 0x0f);
        }
        else if (code == MessagePackCode.Array16)
        {
            count = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
        }
        else if (code == MessagePackCode.Array32)
        {
            count = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
        }
        else
        {
            throw WrongType("an array");
        }

        if (count > (uint)Remaining)
        {
            throw Error(start, $"The array claims {count} elements but only {Remaining} bytes remain.");
        }

        return (int)count;
    }

    /// <summary>Reads a map header. The count is checked against the bytes left (every entry needs two).</summary>
    public int ReadMapHeader()
    {
        var start = _position;
        var code = NextCode;
        uint count;
        if (code is >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap)
        {
            _position++;
            count = (uint)(code & 0x0f);
        }
        else if (code == MessagePackCode.Map16)
        {
            count = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
        }
        else if (code == MessagePackCode.Map32)
        {
            count = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
        }
        else
        {
            throw WrongType("a map");
        }

        if (count * 2UL > (ulong)Remaining)
        {
            throw Error(start, $"The map claims {count} entries but only {Remaining} bytes remain.");
        }

        return (int)count;
    }

    /// <summary>Reads an extension value: its type and data.</summary>
    public ReadOnlySpan<byte> ReadExtension(out sbyte type)
    {
        int headerLength;
        uint length;
        switch (NextCode)
        {
            case MessagePackCode.FixExt1: headerLength = 2; length = 1; break;
            case MessagePackCode.FixExt2: headerLength = 2; length = 2; break;
            case MessagePackCode.FixExt4: headerLength = 2; length = 4; break;
            case MessagePackCode.FixExt8: headerLength = 2; length = 8; break;
            case MessagePackCode.FixExt16: headerLength = 2; length = 16; break;
            case MessagePackCode.Ext8:
                headerLength = 3;
                length = Peek(3)[1];
                break;
            case MessagePackCode.Ext16:
                headerLength = 4;
                length = BinaryPrimitives.ReadUInt16BigEndian(Peek(4)[1..]);
                break;
            case MessagePackCode.Ext32:
                headerLength = 6;
                length = BinaryPrimitives.ReadUInt32BigEndian(Peek(6)[1..]);
                break;
            default:
                throw WrongType("an extension");
        }

        type = unchecked((sbyte)Peek(headerLength)[headerLength - 1]);
        return TakePayload(headerLength, length, "extension");
    }

    /// <summary>Reads the timestamp extension (type -1) in its 32, 64 or 96-bit form.</summary>
    public void ReadTimestamp(out long seconds, out uint nanoseconds)
    {
        var start = _position;
        var data = ReadExtension(out var type);
        if (type != MessagePackCode.TimestampExtensionType)
        {
            throw Error(start, $"Expected a timestamp extension (type -1) but found extension type {type}.");
        }

        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                nanoseconds = 0;
                break;
            case 8:
                var packed = BinaryPrimitives.ReadUInt64BigEndian(data);
                nanoseconds = (uint)(packed >> 34);
                seconds = (long)(packed & 0x3_FFFF_FFFFUL);
                break;
            case 12:
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                break;
            default:
                throw Error(start, $"A timestamp has 4, 8 or 12 bytes of data, not {data.Length}.");
        }

        if (nanoseconds >= 1_000_000_000u)
        {
            throw Error(start, $"The timestamp's nanoseconds ({nanoseconds}) must be below 1000000000.");
        }
    }

    /// <summary>Reads a timestamp as a UTC <see cref="DateTime"/> (precision 100 ns; out-of-range instants throw).</summary>
    public DateTime ReadDateTime()
    {
        var start = _position;
        ReadTimestamp(out var seconds, out var nanoseconds);
        var minSeconds = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
        var maxSeconds = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
        if (seconds < minSeconds || seconds > maxSeconds)
        {
            throw Error(start, $"The timestamp ({seconds} s) is outside the range of DateTime.");
        }

        return new DateTime(DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100), DateTimeKind.Utc);
    }

    /// <summary>Skips one value of any type, checking its structure, nesting at most <see cref="MaxDepth"/> deep.</summary>
    public void Skip() => Skip(0);

    /// <summary>Skips one value and returns its encoded bytes.</summary>
    public ReadOnlySpan<byte> ReadRaw()
    {
        var start = _position;
        Skip();
        return _buffer[start.._position];
    }

    private void Skip(int depth)
    {
        switch (NextType)
        {
            case MessagePackType.Nil:
            case MessagePackType.Boolean:
                _position++;
                break;
            case MessagePackType.Integer:
                if (NextCode == MessagePackCode.UInt64)
                {
                    ReadUInt64();
                }
                else
                {
                    ReadInt64();
                }

                break;
            case MessagePackType.Float:
                ReadDouble();
                break;
            case MessagePackType.String:
                ReadStringSpan();
                break;
            case MessagePackType.Binary:
                ReadBinary();
                break;
            case MessagePackType.Extension:
                ReadExtension(out _);
                break;
            case MessagePackType.Array:
            {
                CheckDepth(depth + 1);
                var count = ReadArrayHeader();
                for (var i = 0; i < count; i++)
                {
                    Skip(depth + 1);
                }

                break;
            }

            case MessagePackType.Map:
            {
                CheckDepth(depth + 1);
                var count = ReadMapHeader();
                for (var i = 0; i < count; i++)
                {
                    Skip(depth + 1);
                    Skip(depth + 1);
                }

                break;
            }
        }
    }

    /// <summary>Throws when a container at <paramref name="depth"/> would exceed <see cref="MaxDepth"/>.</summary>
    public readonly void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw Error(_position, $"Arrays and maps nest deeper than the limit of {MaxDepth}.");
        }
    }

    private long ReadSignedOrSmall(byte code)
    {
        if (code <= MessagePackCode.MaxPositiveFixInt)
        {
            _position++;
            return code;
        }

        if (code >= MessagePackCode.MinNegativeFixInt)
        {
            _position++;
            return unchecked((sbyte)code);
        }

        return code switch
        {
            MessagePackCode.UInt8 => Take(2)[1],
            MessagePackCode.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]),
            MessagePackCode.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]),
            MessagePackCode.Int8 => unchecked((sbyte)Take(2)[1]),
            MessagePackCode.Int16 => BinaryPrimitives.ReadInt16BigEndian(Take(3)[1..]),
            MessagePackCode.Int32 => BinaryPrimitives.ReadInt32BigEndian(Take(5)[1..]),
            MessagePackCode.Int64 => BinaryPrimitives.ReadInt64BigEndian(Take(9)[1..]),
            _ => throw WrongType("an integer"),
        };
    }

    private readonly ReadOnlySpan<byte> Peek(int count)
    {
        if (count > Remaining)
        {
            throw Truncated(count);
        }

        return _buffer.Slice(_position, count);
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        var span = Peek(count);
        _position += count;
        return span;
    }

    /// <summary>Consumes a header of <paramref name="headerLength"/> bytes and the <paramref name="length"/> bytes after it, after checking they are all present.</summary>
    private ReadOnlySpan<byte> TakePayload(int headerLength, uint length, string what)
    {
        if ((ulong)headerLength + length > (ulong)Remaining)
        {
            throw Error(_position, $"The {what} claims {length} bytes but only {Math.Max(0, Remaining - headerLength)} remain.");
        }

        var payload = _buffer.Slice(_position + headerLength, (int)length);
        _position += headerLength + (int)length;
        return payload;
    }

    private readonly MessagePackFormatException Truncated(int needed) =>
        Error(_position, $"Unexpected end of data: {needed} byte(s) needed, {Remaining} remain.");

    private readonly MessagePackFormatException WrongType(string expected)
    {
        var code = _buffer[_position];
        var type = MessagePackCode.GetType(code);
        return type == MessagePackType.Unknown
            ? UnknownFormat(code)
            : Error(_position, $"Expected {expected} but found {type} (format byte 0x{code:x2}).");
    }

    private readonly MessagePackFormatException UnknownFormat(byte code) =>
        Error(_position, $"Unknown format byte 0x{code:x2}.");

    private static MessagePackFormatException Error(int offset, string message) =>
        new($"Invalid MessagePack data at offset {offset}: {message}");
}
