using Aicp.Hub.Observability;

namespace Aicp.Hub.Security;

/// <summary>
/// Where a security event is recorded: one call logs it (stable event id, category <c>Aicp.Hub.Security.SecurityEvents</c>)
/// and then counts it in <c>aicp_security_events_total{kind}</c>, so an event that is counted has been logged. Foreign completions are the exception: the dispatcher logs
/// them (event id 2004) and <see cref="HubMetrics.ForeignCompletion"/> counts them under this family too.
/// </summary>
internal sealed class SecurityEvents(HubMetrics metrics, ILogger<SecurityEvents> logger)
{
    public void AuthenticationFailed(string request, string remoteAddress, string reason)
    {
        SecurityLog.AuthenticationFailed(logger, request, remoteAddress, reason);
        metrics.SecurityEvent(SecurityEventKind.AuthenticationFailed);
    }

    /// <summary>A hub method or route refused for want of a role.</summary>
    public void RoleRefused(string method, string caller, string where, string reason)
    {
        SecurityLog.Forbidden(logger, method, caller, where, reason);
        metrics.SecurityEvent(SecurityEventKind.RoleRefused);
    }

    /// <summary>A Register for an agent id or capability outside the credential's patterns.</summary>
    public void BindingRefused(string method, string caller, string connectionId, string reason)
    {
        SecurityLog.BindingRefused(logger, method, caller, connectionId, reason);
        metrics.SecurityEvent(SecurityEventKind.BindingRefused);
    }

    public void KeyRevoked(string name, string reason, int connections)
    {
        SecurityLog.KeyRevoked(logger, name, reason, connections);
        metrics.SecurityEvent(SecurityEventKind.KeyRevoked);
    }

    public void CredentialExpired(string connectionId, string caller, DateTimeOffset expiresAt)
    {
        SecurityLog.CredentialExpired(logger, connectionId, caller, expiresAt);
        metrics.SecurityEvent(SecurityEventKind.CredentialExpired);
    }

    public void ConnectionRefused(string caller, string remoteAddress, string reason)
    {
        SecurityLog.ConnectionRefused(logger, caller, remoteAddress, reason);
        metrics.SecurityEvent(SecurityEventKind.ConnectionRefused);
    }

    public void KeysReloaded(int keys, int added, int revoked) => SecurityLog.KeysReloaded(logger, keys, added, revoked);

    public void KeysReloadRejected(string errors) => SecurityLog.KeysReloadRejected(logger, errors);
}
