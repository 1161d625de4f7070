using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors.Http;

/// <summary>The HTTP status code of a task's final result at <c>POST /v1/tasks</c> (docs/FRONT-DOORS.md has the table).</summary>
internal static class TaskHttpStatus
{
    /// <summary>nginx's "client closed request": the caller went away, so nobody reads it.</summary>
    public const int ClientClosedRequest = 499;

    public static int Of(TaskResult result) => result.Error?.Code switch
    {
        _ when result.Status == TaskStatuses.Completed => StatusCodes.Status200OK,
        ErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
        ErrorCodes.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        _ => result.Status switch
        {
            TaskStatuses.Rejected => StatusCodes.Status400BadRequest,
            TaskStatuses.RateLimited => StatusCodes.Status429TooManyRequests,
            TaskStatuses.NoAgents or TaskStatuses.Overloaded => StatusCodes.Status503ServiceUnavailable,
            TaskStatuses.Timeout => StatusCodes.Status504GatewayTimeout,
            TaskStatuses.Cancelled => ClientClosedRequest,
            _ => StatusCodes.Status502BadGateway, // failed: the agents that ran it failed
        },
    };
}
