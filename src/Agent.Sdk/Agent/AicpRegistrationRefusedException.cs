using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>
/// The hub refused the agent's registration: its answer's error code and message. <see cref="AicpAgent.StartAsync"/>
/// throws it for a refusal that registering again cannot change (<see cref="IsTransient"/> false: the credential may
/// not register this id or capability, or the registration breaks the hub's rules); any other refusal is retried with
/// the reconnect delays. An agent that was registered before retries every refusal after losing its connection: the hub
/// that accepted it may accept it again once its operator has fixed the keys.
/// </summary>
public sealed class AicpRegistrationRefusedException : Exception
{
    private static readonly HashSet<string> Permanent = new(StringComparer.Ordinal)
    {
        ErrorCodes.Forbidden, ErrorCodes.InvalidAgentId, ErrorCodes.InvalidMethod, ErrorCodes.InvalidConcurrency,
        ErrorCodes.TooManyCapabilities, ErrorCodes.InvalidRequest,
    };

    /// <summary>A refusal of <paramref name="agentId"/> with the hub's <paramref name="errorCode"/> and message.</summary>
    public AicpRegistrationRefusedException(string agentId, string? errorCode, string? errorMessage)
        : base($"The hub refused to register agent '{agentId}': {errorCode ?? "no error code"}" + (string.IsNullOrEmpty(errorMessage) ? "." : $": {errorMessage}"))
    {
        AgentId = agentId;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
    }

    /// <summary>The agent id the registration named.</summary>
    public string AgentId { get; }

    /// <summary>The hub's error code, e.g. <c>forbidden</c> or <c>invalid_agent_id</c>; null when it sent none.</summary>
    public string? ErrorCode { get; }

    /// <summary>The hub's message, e.g. <c>This credential may not register agent id 'cpu-9'.</c></summary>
    public string? ErrorMessage { get; }

    /// <summary>
    /// False for the codes that registering again cannot change: <c>forbidden</c>, <c>invalid_agent_id</c>,
    /// <c>invalid_method</c>, <c>invalid_concurrency</c>, <c>too_many_capabilities</c>, <c>invalid_request</c>; true for
    /// any other (or no) code.
    /// </summary>
    public bool IsTransient => ErrorCode is null || !Permanent.Contains(ErrorCode);
}
