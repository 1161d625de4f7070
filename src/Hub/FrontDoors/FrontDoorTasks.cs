using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.FrontDoors;

/// <summary>
/// How an HTTP front door runs a task: the caller's grants are read from the request's principal, the task passes the
/// same <see cref="HubCallGate"/> as a SignalR <c>Submit</c> (role, rate limit, payload size) and runs on the same
/// <see cref="TaskDispatcher"/>, and the outcome is counted under the door's name. The request's abort token is the
/// submitter's cancellation, as a SignalR connection's is.
/// </summary>
internal sealed class FrontDoorTasks(TaskDispatcher dispatcher, HubCallGate gate, ApiKeyStore keys, HubMetrics metrics, IOptions<AicpHubOptions> options)
{
    /// <summary>Largest request body a door reads: the hub's frame limit (<c>Aicp:MaxMessageBytes</c>).</summary>
    public long MaxBodyBytes => options.Value.MaxMessageBytes;

    /// <summary>Runs <paramref name="request"/> to its one final result (a refusal by the gate included).</summary>
    public async Task<TaskResult> SubmitAsync(string door, HttpContext http, TaskRequest request)
    {
        var result = gate.CheckSubmit(Caller(http), ConnectionName(http), request) ?? await dispatcher.SubmitAsync(request, http.RequestAborted);
        metrics.FrontDoorRequest(door, result.Status);
        return result;
    }

    /// <summary>
    /// Starts <paramref name="request"/> as a streamed task (its agent's chunks, then its final result); null, with the
    /// gate's refusal in <paramref name="refused"/>, when it may not run. The outcome is counted when the task ends.
    /// </summary>
    public TaskStream? SubmitStream(string door, HttpContext http, TaskRequest request, out TaskResult? refused)
    {
        refused = gate.CheckSubmit(Caller(http), ConnectionName(http), request);
        if (refused is not null)
        {
            metrics.FrontDoorRequest(door, refused.Status);
            return null;
        }

        var stream = dispatcher.SubmitStream(request, http.RequestAborted);
        _ = stream.Finished.ContinueWith(t => metrics.FrontDoorRequest(door, t.Result.Status),
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return stream;
    }

    /// <summary>Counts a request the door refused before it became a task (malformed JSON, oversize body, unknown model...).</summary>
    public void Refused(string door) => metrics.FrontDoorRequest(door, FrontDoorNames.InvalidRequest);

    /// <summary>The caller's grants; a caller without a credential name (open mode) is rate limited per TCP connection.</summary>
    public CallerGrants Caller(HttpContext http) => CallerGrants.From(http.User, ConnectionName(http), http, keys.DefaultLimits);

    private static string ConnectionName(HttpContext http) => "http:" + http.Connection.Id;
}
