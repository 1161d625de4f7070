using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>
/// An error in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>: what every refusal and failure of
/// the OpenAI door is answered with, so that OpenAI clients read it as they read OpenAI's own. <c>code</c> is the hub's
/// error code (<c>no_agents</c>, <c>rate_limited</c>, <c>agent_timeout</c>...), <c>type</c> follows from the HTTP status
/// (<see cref="TypeOf"/>), and <c>param</c> names the request field at fault, when one is.
/// </summary>
internal sealed record OpenAiError(
    string Message,
    string Type,
    string? Param,
    string Code)
{
    /// <summary>The request names a model that is neither in the model map nor a capability a live agent serves.</summary>
    public const string ModelNotFound = "model_not_found";

    /// <summary>The agent's result or chunk is not what a <c>text.chat</c> agent answers (docs/FRONT-DOORS.md).</summary>
    public const string InvalidAgentResult = "invalid_agent_result";

    /// <summary>The <c>type</c> of an error answered with HTTP <paramref name="status"/>.</summary>
    public static string TypeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    /// <summary>An error answered with HTTP <paramref name="status"/>.</summary>
    public static OpenAiError Of(int status, string code, string message, string? param = null) => new(message, TypeOf(status), param, code);

    /// <summary>A task's error (or, for a result without one, its status) answered with HTTP <paramref name="status"/>.</summary>
    public static OpenAiError Of(int status, TaskResult result) =>
        Of(status, result.Error?.Code ?? result.Status, result.Error?.Message ?? $"The task ended with status '{result.Status}'.");

    /// <summary><c>{"error":{...}}</c>.</summary>
    public Envelope Wrap() => new(this);

    /// <summary>
    /// Writes the error as the response: the status, the code in <c>Aicp-Error-Code</c> (as every door writes it) and
    /// the JSON body. Nothing is written once the response has started, or when the caller is gone.
    /// </summary>
    public static Task WriteAsync(HttpContext http, int status, OpenAiError error)
    {
        if (http.Response.HasStarted || http.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        http.Response.StatusCode = status;
        http.Response.Headers[ProtocolDefaults.ErrorCodeHeader] = error.Code;
        return http.Response.WriteAsJsonAsync(error.Wrap(), OpenAiJson.Options, http.RequestAborted);
    }

    internal sealed record Envelope(OpenAiError Error);
}
