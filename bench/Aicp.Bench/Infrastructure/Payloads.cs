using System.Text.Json;

namespace Aicp.Bench.Infrastructure;

internal static class Payloads
{
    /// <summary>The capability the bench agents serve.</summary>
    public const string Method = "bench.noop";

    /// <summary>A JSON object with one string field of <paramref name="characters"/> ASCII characters.</summary>
    public static JsonElement OfSize(int characters) =>
        JsonSerializer.SerializeToElement(new { data = new string('x', Math.Max(0, characters)) });
}
