using Aicp.Hub.Hubs;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Hub.Security;

/// <summary>
/// Closes the connections of API keys a configuration reload revoked (<see cref="ApiKeyStore.KeysRevoked"/>), within the
/// reload: each gets a close message with <c>credential_revoked</c> and then loses its transport, so an agent's
/// in-flight attempts fail over as on any disconnect. Each revoked key is a security event.
/// </summary>
internal sealed class KeyRevocation(ApiKeyStore keys, HubLifetimeManager<AicpHub> lifetime, SecurityEvents events) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        keys.KeysRevoked += OnKeysRevoked;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        keys.KeysRevoked -= OnKeysRevoked;
        return Task.CompletedTask;
    }

    private void OnKeysRevoked(IReadOnlyList<RevokedKey> revoked) => _ = CloseAsync(revoked);

    private async Task CloseAsync(IReadOnlyList<RevokedKey> revoked)
    {
        foreach (var key in revoked)
        {
            var closed = lifetime is AicpHubLifetimeManager connections
                ? await connections.CloseConnectionsAsync(key.Entry, AicpHubLifetimeManager.RevokedCloseError).ConfigureAwait(false)
                : 0;
            events.KeyRevoked(key.Entry.Name, key.Reason, closed);
        }
    }
}
