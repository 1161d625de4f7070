using System.Net;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;

namespace Aicp.SampleAgents.Cli;

/// <summary>
/// One line for a refusal the hub sent, in the command's terms: what the hub said (status, code) and what the command
/// needs (a key or JWT with a role, given with <c>--token</c>).
/// </summary>
internal static class HubRefusals
{
    /// <summary>The line for <paramref name="refusal"/>, for <paramref name="command"/> which needs <paramref name="role"/>.</summary>
    public static string Describe(Exception refusal, string command, string role, bool tokenGiven) => refusal switch
    {
        AicpConnectionRefusedException { StatusCode: HttpStatusCode.Unauthorized } => tokenGiven
            ? $"error: the hub refused the connection (HTTP 401, unauthorized): it does not accept the key or JWT given with --token (unknown, revoked or expired). {command} needs one with the '{role}' role."
            : $"error: the hub refused the connection (HTTP 401, unauthorized): it requires a credential. {command} needs an API key or JWT with the '{role}' role: pass it with --token KEY.",
        AicpConnectionRefusedException { StatusCode: HttpStatusCode.Forbidden } =>
            $"error: the hub refused the connection (HTTP 403, forbidden): the key or JWT given with --token has no role that may connect. {command} needs one with the '{role}' role.",
        AicpConnectionRefusedException connection => $"error: {connection.Message}",
        AicpRegistrationRefusedException { ErrorCode: ErrorCodes.Forbidden } registration =>
            $"error: {registration.Message} {command} needs a key or JWT with the '{role}' role whose agent id and capability patterns allow '{registration.AgentId}' and its capabilities.",
        _ => $"error: {refusal.Message}",
    };

    /// <summary>A hint for tasks the hub rejected with <paramref name="code"/>, or null.</summary>
    public static string? HintFor(string? code, string command, bool tokenGiven) => code switch
    {
        ErrorCodes.Forbidden => $"{command} needs a key or JWT with the 'submitter' role" + (tokenGiven ? "; the one given with --token has not." : ": pass it with --token KEY."),
        ErrorCodes.NoAgents => "no agent serves the method: start one (labelee, swarm) or check --method.",
        ErrorCodes.UnknownStrategy => "--strategy names a strategy the hub does not know (docs/ROUTING.md lists them).",
        ErrorCodes.RateLimited => "the credential's Submit rate limit was exceeded: lower --concurrency or raise the key's RateLimit.",
        _ => null,
    };
}
