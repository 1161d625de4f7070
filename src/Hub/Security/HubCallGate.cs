using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// The checks that run in the hub before a call reaches the registry, the dispatcher or the status queries: the
/// caller's role and bindings, the payload and result size limits, and the submit rate limit. Refused Submits still
/// count as submitted and finished, so <c>submitted</c> equals the sum of the final statuses.
/// </summary>
internal sealed class HubCallGate(IOptions<AicpSecurityOptions> options, SubmitRateLimiter rateLimiter, HubMetrics metrics,
    SecurityEvents events, ILogger<HubCallGate> logger)
{
    private readonly AicpSecurityOptions _options = options.Value;

    /// <summary>What to do with a Complete.</summary>
    public enum CompleteVerdict
    {
        Accept,
        Ignore,

        /// <summary>Close the connection: the agent broke the contract (oversize result); its attempts fail over.</summary>
        Abort,
    }

    /// <summary>The role and binding check for an already validated registration; null when allowed.</summary>
    public TaskError? CheckRegister(CallerGrants caller, string connectionId, string agentId, IReadOnlyList<string> capabilities)
    {
        if (!caller.IsAgent)
        {
            const string NoRole = "Registering needs the 'agent' role.";
            metrics.ForbiddenCall();
            events.RoleRefused(HubMethods.Register, caller.Name, connectionId, NoRole);
            return TaskError.Of(ErrorCodes.Forbidden, NoRole);
        }

        string? reason = null;
        if (!NamePattern.AnyMatches(caller.AgentIds, agentId))
        {
            reason = $"This credential may not register agent id '{agentId}'.";
        }
        else if (capabilities.FirstOrDefault(c => !NamePattern.AnyMatches(caller.Capabilities, c)) is { } denied)
        {
            reason = $"This credential may not register capability '{denied}'.";
        }

        if (reason is null)
        {
            return null;
        }

        metrics.ForbiddenCall();
        events.BindingRefused(HubMethods.Register, caller.Name, connectionId, reason);
        return TaskError.Of(ErrorCodes.Forbidden, reason);
    }

    /// <summary>Role, rate and size checks for a Submit; a final result when refused, null to proceed.</summary>
    public TaskResult? CheckSubmit(CallerGrants caller, string connectionId, TaskRequest? request)
    {
        TaskResult? refused = null;
        if (!caller.IsSubmitter)
        {
            metrics.ForbiddenCall();
            events.RoleRefused(HubMethods.Submit, caller.Name, connectionId, "no submitter role");
            refused = Refuse(TaskStatuses.Rejected, ErrorCodes.Forbidden, "Submitting needs the 'submitter' role.", request);
        }
        else if (!rateLimiter.TryAcquire(caller))
        {
            SecurityLog.RateLimited(logger, caller.Name, connectionId);
            var limit = caller.Limits.RateLimit!;
            refused = Refuse(TaskStatuses.RateLimited, ErrorCodes.RateLimited,
                $"Rate limit exceeded ({limit.TokensPerPeriod} per {limit.ReplenishmentPeriodMs} ms, burst {limit.TokenLimit}); retry later.", request);
        }
        else if (request is not null && PayloadSize(request) is var (size, form) && size > _options.MaxPayloadBytes)
        {
            refused = Refuse(TaskStatuses.Rejected, ErrorCodes.PayloadTooLarge,
                $"The payload is {size} bytes of {form}; the limit is {_options.MaxPayloadBytes}.", request);
        }

        if (refused is not null)
        {
            metrics.TaskRefused(metrics.ForMethod(request?.Method), refused.Status);
        }

        return refused;
    }

    public CompleteVerdict CheckComplete(CallerGrants caller, string connectionId, TaskCompletion completion)
    {
        if (!caller.IsAgent)
        {
            metrics.ForbiddenCall();
            events.RoleRefused(HubMethods.Complete, caller.Name, connectionId, "no agent role");
            return CompleteVerdict.Ignore;
        }

        // A result is measured as it came (a MessagePack one is not converted just to be measured).
        if ((completion.Result?.Length ?? 0) is var size && size > _options.MaxResultBytes)
        {
            metrics.OversizeResult();
            SecurityLog.OversizeResult(logger, size, completion.TaskId ?? "", connectionId, _options.MaxResultBytes);
            return CompleteVerdict.Abort;
        }

        return CompleteVerdict.Accept;
    }

    /// <summary>Whether the caller may make an agent's call (<c>Drain</c>, <c>Partial</c>); a refusal is counted and raised.</summary>
    public bool CheckAgentCall(CallerGrants caller, string connectionId, string method)
    {
        if (caller.IsAgent)
        {
            return true;
        }

        metrics.ForbiddenCall();
        events.RoleRefused(method, caller.Name, connectionId, "no agent role");
        return false;
    }

    /// <summary>
    /// Whether the caller may read status data through a hub method (<c>GetAgents</c>, ...): the same rule as
    /// <c>/v1/*</c>, the admin role, or a loopback caller when <see cref="AicpSecurityOptions.StatusOpenOnLoopback"/>.
    /// </summary>
    public bool CheckStatus(CallerGrants caller, string connectionId, string method)
    {
        if (caller.IsAdmin || (_options.StatusOpenOnLoopback && caller.IsLoopback))
        {
            return true;
        }

        metrics.ForbiddenCall();
        events.RoleRefused(method, caller.Name, connectionId, "no admin role");
        return false;
    }

    /// <summary>The payload's size as received (MessagePack or UTF-8 JSON bytes), without converting it.</summary>
    private static (int Size, string Form) PayloadSize(TaskRequest request) =>
        (request.Payload?.Length ?? 0, request.Payload is { IsMessagePack: true } ? "MessagePack" : "JSON");

    private static TaskResult Refuse(string status, string code, string message, TaskRequest? request) => new()
    {
        TaskId = TaskIds.New(), Status = status, Error = TaskError.Of(code, message), Strategy = request?.Strategy ?? "",
    };
}
