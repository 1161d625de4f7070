using System.Buffers;
using Aicp.Protocol.MessagePack;

namespace Aicp.Tests.Protocol.MessagePack;

internal static class MessagePackTestHelpers
{
    public delegate void WriteAction(ref MessagePackWriter writer);

    public static byte[] Write(WriteAction write)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        write(ref writer);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Bytes(params int[] values) => values.Select(v => checked((byte)v)).ToArray();

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A fixstr (at most 31 UTF-8 bytes).</summary>
    public static byte[] Str(string s)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(s);
        return Concat(Bytes(0xa0 | utf8.Length), utf8);
    }

    /// <summary>Splits bytes into a multi-segment sequence, one segment per chunk of <paramref name="chunk"/> bytes.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int chunk)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            var memory = bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i));
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
