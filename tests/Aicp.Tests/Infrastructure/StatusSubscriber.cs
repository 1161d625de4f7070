using System.Collections.Concurrent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dashboard;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aicp.Tests.Infrastructure;

/// <summary>A status subscriber: the SDK's connection with a handler that keeps every snapshot.</summary>
internal sealed class StatusSubscriber : IAsyncDisposable
{
    private readonly ConcurrentQueue<StatusSnapshot> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private StatusSubscriber(ResilientHubConnection connection)
    {
        Connection = connection;
        connection.Connection.On<StatusSnapshot>(StatusFeed.ClientMethod, snapshot =>
        {
            _received.Enqueue(snapshot);
            _arrived.Release();
        });
    }

    public ResilientHubConnection Connection { get; }

    public IReadOnlyCollection<StatusSnapshot> Received => _received;

    public static async Task<StatusSubscriber> ConnectAsync(HubHarness h, string? key = null)
    {
        var connection = new ResilientHubConnection(
            new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), Protocol = h.Protocol, AccessToken = key },
            _ => { }, (_, _) => Task.CompletedTask, null);
        var subscriber = new StatusSubscriber(connection);
        await connection.StartAsync(CancellationToken.None).DefaultTimeout();
        return subscriber;
    }

    public Task<StatusSubscription> SubscribeAsync(StatusView view) =>
        Connection.Connection.InvokeAsync<StatusSubscription>("SubscribeStatus", view).DefaultTimeout();

    /// <summary>The first snapshot received (from now or earlier) that satisfies <paramref name="condition"/>.</summary>
    public async Task<StatusSnapshot> NextAsync(Func<StatusSnapshot, bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TestTimeouts.Default);
        var seen = 0;
        while (true)
        {
            foreach (var snapshot in _received.Skip(seen))
            {
                seen++;
                if (condition(snapshot))
                {
                    return snapshot;
                }
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
            {
                Assert.Fail($"No matching status snapshot within the bound ({_received.Count} received).");
            }
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
