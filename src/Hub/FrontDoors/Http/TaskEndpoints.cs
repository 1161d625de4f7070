using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Hub.Dispatch;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.Http;

/// <summary>
/// <c>POST /v1/tasks</c>: the request JSON of <c>Submit</c> in, the result JSON of <c>Submit</c> out, with an HTTP
/// status per final status (<see cref="TaskHttpStatus"/>) and the error code in the <c>Aicp-Error-Code</c> header.
/// A body that is not a request (malformed JSON, wrong types, too large) is refused with a result of status
/// <c>rejected</c> and code <c>invalid_request</c> or <c>payload_too_large</c>, like any other refusal.
/// </summary>
internal static class TaskEndpoints
{
    public const string Path = "/v1/tasks";

    /// <summary>The hub's JSON conventions: camelCase names (as the SignalR JSON protocol), nulls left out.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static IEndpointConventionBuilder MapTaskEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(Path, SubmitAsync).WithMetadata(new FrontDoorMetadata(FrontDoorNames.Http));

    private static async Task SubmitAsync(HttpContext http, FrontDoorTasks tasks)
    {
        var body = await JsonRequestBody.ReadAsync(http, tasks.MaxBodyBytes);
        TaskRequest? request = null;
        string? problem = body.Document is null ? body.Message : null;
        using (body.Document)
        {
            if (body.Document is { } document)
            {
                try
                {
                    request = document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Deserialize<TaskRequest>(Json) : null;
                    problem = request is null ? $"The request must be a JSON object; got {document.RootElement.ValueKind}." : null;
                }
                catch (JsonException ex)
                {
                    problem = $"The request does not bind: {ex.Message}";
                }
            }
        }

        if (request is null)
        {
            tasks.Refused(FrontDoorNames.Http);
            var code = body.Document is null && body.Code.Length > 0 ? body.Code : ErrorCodes.InvalidRequest;
            await WriteResultAsync(http, new TaskResult
            {
                TaskId = TaskIds.New(), Status = TaskStatuses.Rejected, Error = TaskError.Of(code, problem!),
            });
            return;
        }

        await WriteResultAsync(http, await tasks.SubmitAsync(FrontDoorNames.Http, http, request));
    }

    private static Task WriteResultAsync(HttpContext http, TaskResult result)
    {
        if (http.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask; // the caller is gone (its task ended cancelled)
        }

        http.Response.StatusCode = TaskHttpStatus.Of(result);
        if (result.Error is { } error)
        {
            http.Response.Headers[ProtocolDefaults.ErrorCodeHeader] = error.Code;
        }

        return http.Response.WriteAsJsonAsync(result, Json, http.RequestAborted);
    }
}
