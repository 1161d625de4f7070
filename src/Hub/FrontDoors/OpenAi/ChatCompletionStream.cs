using System.Text.Json;
using Aicp.Hub.FrontDoors.Http;
using Aicp.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Aicp.Hub.FrontDoors.OpenAi;

/// <summary>
/// A <c>stream: true</c> chat completion: the task runs as a streamed task (<see cref="FrontDoorTasks.SubmitStream"/>)
/// and its output is written as OpenAI's server-sent events: a first chunk with <c>delta.role</c>, one chunk with
/// <c>delta.content</c> per chunk the agent writes, a last chunk with <c>finish_reason</c>, a chunk with <c>usage</c>
/// when the request asked for it (<c>stream_options.include_usage</c>), then <c>data: [DONE]</c>.
/// </summary>
/// <remarks>
/// Nothing is written until the task's first chunk or its result arrives, so a task that fails before its agent wrote
/// anything (no agents, rate limited, a timeout, ...) is answered with the status and JSON error of a request without
/// <c>stream</c>. Once the events began, a task that does not complete (an agent lost mid-stream: <c>stream_interrupted</c>)
/// ends the stream with one <c>data: {"error":{...}}</c> event and no <c>[DONE]</c>. An agent that wrote no chunk it could
/// read (it does not stream, or its chunks are not <c>{"delta":"..."}</c>) has its result's content sent as one chunk.
/// The caller closing the request cancels the task (the request's abort token is the task's cancellation).
/// </remarks>
internal sealed class ChatCompletionStream(HttpContext http, ChatCompletionRequest request, long created)
{
    private static readonly byte[] Data = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private string _id = "";
    private bool _started;
    private int _deltas;

    public async Task RunAsync(FrontDoorTasks tasks, TaskRequest task)
    {
        if (tasks.SubmitStream(FrontDoorNames.OpenAi, http, task, out var refused) is not { } stream)
        {
            await OpenAiEndpoints.WriteFailureAsync(http, refused!);
            return;
        }

        try
        {
            await foreach (var item in stream.ReadAllAsync(http.RequestAborted))
            {
                _id = OpenAiEndpoints.IdPrefix + item.TaskId;
                if (item.Result is { } result)
                {
                    await FinishAsync(result);
                    return;
                }

                if (ChatAgentContract.Delta(item.Chunk) is { Length: > 0 } delta)
                {
                    await ContentAsync(delta);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && http.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: the task is cancelled with the request, and nobody reads what is left.
        }
    }

    private async Task FinishAsync(TaskResult result)
    {
        var answer = result.Status == TaskStatuses.Completed ? ChatAgentContract.Answer(result.Result) : null;
        if (answer is null)
        {
            var status = result.Status == TaskStatuses.Completed ? StatusCodes.Status502BadGateway : TaskHttpStatus.Of(result);
            var error = result.Status == TaskStatuses.Completed ? ChatAgentContract.NotAnAnswer(result) : OpenAiError.Of(status, result);
            if (_started)
            {
                await EventAsync(error.Wrap());
            }
            else
            {
                await OpenAiError.WriteAsync(http, status, error);
            }

            return;
        }

        if (_deltas == 0 && answer.Content.Length > 0)
        {
            await ContentAsync(answer.Content);
        }

        await StartAsync();
        await EventAsync(Chunk(new ChunkDelta(null, null), answer.FinishReason));
        if (request.IncludeUsage)
        {
            await EventAsync(new ChatCompletionChunk(_id, created, request.Model, [], answer.Usage));
        }

        await http.Response.Body.WriteAsync(Done, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    private async Task ContentAsync(string delta)
    {
        await StartAsync();
        _deltas++;
        await EventAsync(Chunk(new ChunkDelta(null, delta), null));
    }

    /// <summary>The response's status and headers, and the first chunk (the role), unless they are sent already.</summary>
    private async Task StartAsync()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await EventAsync(Chunk(new ChunkDelta("assistant", ""), null));
    }

    private ChatCompletionChunk Chunk(ChunkDelta delta, string? finishReason) =>
        new(_id, created, request.Model, [new ChatCompletionChunkChoice(0, delta, finishReason)]);

    /// <summary>One <c>data:</c> event, flushed at once so that the caller reads it as it is produced.</summary>
    private async Task EventAsync<T>(T value)
    {
        var body = http.Response.Body;
        await body.WriteAsync(Data, http.RequestAborted);
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(value, OpenAiJson.Options), http.RequestAborted);
        await body.WriteAsync(EventEnd, http.RequestAborted);
        await body.FlushAsync(http.RequestAborted);
    }
}
