using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Client;

/// <summary>A task's final status (the wire's <see cref="TaskStatuses"/> names as an enum).</summary>
public enum AicpTaskStatus
{
    /// <summary>A status this SDK does not know (a newer hub).</summary>
    Unknown,

    /// <summary><c>completed</c>: an agent returned a result.</summary>
    Completed,

    /// <summary><c>failed</c>: every attempt ended in an error.</summary>
    Failed,

    /// <summary><c>timeout</c>: the last attempt timed out.</summary>
    Timeout,

    /// <summary><c>no_agents</c>: no agent serves the capability.</summary>
    NoAgents,

    /// <summary><c>rejected</c>: the request was invalid or not allowed.</summary>
    Rejected,

    /// <summary><c>overloaded</c>: the capability's wait queue was full.</summary>
    Overloaded,

    /// <summary><c>cancelled</c>: the submitter cancelled the task.</summary>
    Cancelled,

    /// <summary><c>rate_limited</c>: the submitter's rate limit was spent.</summary>
    RateLimited,
}
