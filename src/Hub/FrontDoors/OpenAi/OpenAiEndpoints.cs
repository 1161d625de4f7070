using Aicp.Hub.FrontDoors.Http;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>
/// The OpenAI-compatible door: <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>, so that OpenAI clients and
/// SDKs reach the hub's agents by pointing their base URL at <c>/v1</c>. A request's <c>model</c> selects a capability
/// through the <see cref="ModelCatalog"/>; the task runs through <see cref="FrontDoorTasks"/> (the gate, the dispatcher,
/// the <c>openai</c> door's metrics), and its answer is written as a <c>chat.completion</c>, or with <c>stream</c> as
/// server-sent <c>chat.completion.chunk</c> events (<see cref="ChatCompletionStream"/>). Every error is an
/// <see cref="OpenAiError"/> with the HTTP status <c>POST /v1/tasks</c> gives the same outcome.
/// </summary>
internal static class OpenAiEndpoints
{
    public const string ChatCompletionsPath = "/v1/chat/completions";

    public const string ModelsPath = "/v1/models";

    /// <summary>The prefix of a completion's id; the rest is the task's id.</summary>
    public const string IdPrefix = "chatcmpl-";

    public static IEndpointConventionBuilder MapOpenAiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A model's "created" (OpenAI: when the model was made) is when this hub started serving the list.
        var started = endpoints.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();
        var door = endpoints.MapGroup("").WithMetadata(new FrontDoorMetadata(FrontDoorNames.OpenAi));
        door.MapPost(ChatCompletionsPath, ChatCompletionsAsync);
        door.MapGet(ModelsPath, (ModelCatalog models) =>
            TypedResults.Json(new ModelList([.. models.List().Select(m => new ModelEntry(m.Id, started, m.Capability, m.Mapped, m.Agents))]), OpenAiJson.Options));
        return door;
    }

    private static async Task ChatCompletionsAsync(HttpContext http, FrontDoorTasks tasks, ModelCatalog models, TimeProvider time)
    {
        var body = await JsonRequestBody.ReadAsync(http, tasks.MaxBodyBytes);
        ChatCompletionRequest? request = null;
        var refusal = body.Document is null ? OpenAiError.Of(body.StatusCode, body.Code, body.Message) : null;
        using (body.Document)
        {
            if (body.Document is { } document)
            {
                request = ChatCompletionRequest.Read(document.RootElement, out refusal);
            }
        }

        if (request is null)
        {
            tasks.Refused(FrontDoorNames.OpenAi);
            await OpenAiError.WriteAsync(http, body.Document is null ? body.StatusCode : StatusCodes.Status400BadRequest, refusal!);
            return;
        }

        if (!models.TryResolve(request.Model, out var route))
        {
            tasks.Refused(FrontDoorNames.OpenAi);
            await OpenAiError.WriteAsync(http, StatusCodes.Status404NotFound, OpenAiError.Of(StatusCodes.Status404NotFound, OpenAiError.ModelNotFound,
                $"The model '{request.Model}' does not exist: it is not in the model map and no live agent serves a capability of that name (GET {ModelsPath} lists the models).",
                "model"));
            return;
        }

        var task = ModelCatalog.Request(route, ChatAgentContract.Payload(request));
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        if (request.Stream)
        {
            await new ChatCompletionStream(http, request, created).RunAsync(tasks, task);
            return;
        }

        var result = await tasks.SubmitAsync(FrontDoorNames.OpenAi, http, task);
        if (result.Status != TaskStatuses.Completed)
        {
            await WriteFailureAsync(http, result);
            return;
        }

        if (ChatAgentContract.Answer(result.Result) is not { } answer)
        {
            await OpenAiError.WriteAsync(http, StatusCodes.Status502BadGateway, ChatAgentContract.NotAnAnswer(result));
            return;
        }

        if (!http.RequestAborted.IsCancellationRequested)
        {
            await http.Response.WriteAsJsonAsync(new ChatCompletion(IdPrefix + result.TaskId, created, request.Model,
                [new ChatCompletionChoice(0, new AssistantMessage(answer.Content), answer.FinishReason)], answer.Usage), OpenAiJson.Options, http.RequestAborted);
        }
    }

    /// <summary>A task that did not complete, as an error with the status <c>POST /v1/tasks</c> gives it.</summary>
    internal static Task WriteFailureAsync(HttpContext http, TaskResult result)
    {
        var status = TaskHttpStatus.Of(result);
        return OpenAiError.WriteAsync(http, status, OpenAiError.Of(status, result));
    }
}
