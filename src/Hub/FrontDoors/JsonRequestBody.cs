using System.Buffers;
using System.Text.Json;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors;

/// <summary>
/// Reads an HTTP request body as one JSON document with a size limit. The body is read into a buffer that stops
/// growing at the limit (so an oversize body costs at most the limit in memory, whatever its Content-Length says) and
/// parsed with a depth limit. Kestrel's own body limit (30 MB) stays in force above it.
/// </summary>
internal static class JsonRequestBody
{
    /// <summary>Most nested arrays and objects a request may have, as in the SignalR JSON protocol.</summary>
    public const int MaxDepth = 64;

    /// <summary>The body as JSON, or the status code, error code and message to refuse it with.</summary>
    public readonly record struct Outcome(JsonDocument? Document, int StatusCode, string Code, string Message);

    public static async Task<Outcome> ReadAsync(HttpContext http, long maxBytes)
    {
        if (http.Request.ContentLength > maxBytes)
        {
            return TooLarge(http.Request.ContentLength.Value, maxBytes);
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(maxBytes + 1, http.Request.ContentLength ?? 4096) + 1);
        while (true)
        {
            var read = await http.Request.Body.ReadAsync(buffer.GetMemory(8192), http.RequestAborted);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return TooLarge(null, maxBytes);
            }
        }

        if (buffer.WrittenCount == 0)
        {
            return new Outcome(null, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "The request body is empty; a JSON object is expected.");
        }

        try
        {
            return new Outcome(JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth }), StatusCodes.Status200OK, "", "");
        }
        catch (JsonException ex)
        {
            return new Outcome(null, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, $"The request body is not valid JSON: {ex.Message}");
        }
    }

    private static Outcome TooLarge(long? length, long maxBytes) => new(null, StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
        length is { } n ? $"The request body is {n} bytes; the limit is {maxBytes}." : $"The request body is larger than the limit of {maxBytes} bytes.");
}
