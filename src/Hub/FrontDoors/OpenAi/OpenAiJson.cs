using System.Text.Json;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>The OpenAI door's JSON: OpenAI's snake_case names as declared on each type, nulls written as OpenAI writes them.</summary>
internal static class OpenAiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
