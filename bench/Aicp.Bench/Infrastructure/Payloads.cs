using System.Text.Json;

namespace Aicp.Bench.Infrastructure;

internal static class Payloads
{
    /// <summary>The capability the bench agents serve.</summary>
    public const string Method = "bench.noop";

    /// <summary>A JSON object with one string field of <paramref name="characters"/> ASCII characters.</summary>
    public static JsonElement OfSize(int characters) =>
        JsonSerializer.SerializeToElement(new { data = new string('x', Math.Max(0, characters)) });

    /// <summary>
    /// An object with one byte-array field of <paramref name="bytes"/> bytes: base64 text over JSON, <c>bin</c> over
    /// MessagePack (the task client serializes it on every submit, as a real submitter would).
    /// </summary>
    public static object Binary(int bytes) =>
        new BinaryPayload { Data = [.. Enumerable.Range(0, Math.Max(0, bytes)).Select(i => (byte)(i * 31 % 251))] };

    /// <summary>The typed structured payload (<c>--typed</c>): the same JSON as <see cref="OfSize"/>, as a class.</summary>
    public static TextPayload Text(int characters) => new() { Data = new string('x', Math.Max(0, characters)) };

    internal sealed class BinaryPayload
    {
        public byte[] Data { get; init; } = [];
    }

    internal sealed class TextPayload
    {
        public string Data { get; init; } = "";
    }
}
