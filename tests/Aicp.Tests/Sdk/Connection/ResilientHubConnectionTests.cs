using System.Net;
using System.Net.Sockets;
using Aicp.Agent.Sdk.Connection;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Sdk.Connection;

public sealed class ResilientHubConnectionTests
{
    private const int ConnectFailedEventId = 5002;


    [Fact]
    public async Task StartAsync_NothingListening_RetriesUntilCancelled_ThenOperationCanceled()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var connection = new ResilientHubConnection(
            new AicpConnectionOptions { HubUrl = $"http://127.0.0.1:{LoopbackPort.Free()}", ReconnectInitialDelay = TimeSpan.FromMilliseconds(5), ReconnectMaxDelay = TimeSpan.FromMilliseconds(20) },
            _ => { }, (_, _) => Task.CompletedTask, loggerFactory);
        using var cancel = new CancellationTokenSource();

        var starting = connection.StartAsync(cancel.Token);
        await TestTimeouts.Eventually(() => logs.Entries.Count(e => e.EventId.Id == ConnectFailedEventId) >= 3, "three failed connects, each logged with its retry");
        Assert.False(starting.IsCompleted);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starting).DefaultTimeout();
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public async Task StartAsync_HubComesUpLate_ConnectsThenRunsTheOwnersStepOnce()
    {
        var port = LoopbackPort.Free();
        var steps = 0;
        await using var connection = new ResilientHubConnection(
            new AicpConnectionOptions { HubUrl = $"http://127.0.0.1:{port}", ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(100) },
            _ => { }, (_, _) =>
            {
                Interlocked.Increment(ref steps);
                return Task.CompletedTask;
            }, loggerFactory: null);

        var starting = connection.StartAsync(CancellationToken.None);
        Assert.False(starting.IsCompleted);
        await using var h = await HubHarness.StartAsync(url: $"http://127.0.0.1:{port}");

        await starting.DefaultTimeout();
        Assert.True(connection.IsConnected);
        Assert.Equal(1, steps);
    }

    [Fact]
    public async Task OwnersStepKeepsFailing_OneLoopRetriesOnTheBackoff_NoStorm()
    {
        // E.g. a registration the hub refuses: each failure stops the connection, which raises Closed.
        await using var h = await HubHarness.StartAsync();
        var calls = 0;
        var running = 0;
        var mostAtOnce = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = new ResilientHubConnection(
            new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), ReconnectInitialDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200) },
            _ => { }, async (_, _) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref mostAtOnce, now);
                Interlocked.Increment(ref calls);
                await Task.Yield();
                Interlocked.Decrement(ref running);
                throw new InvalidOperationException("refused");
            }, loggerFactory: null);

        var starting = connection.StartAsync(CancellationToken.None);
        await TestTimeouts.Eventually(() => Volatile.Read(ref calls) >= 6, "six attempts");
        var elapsed = started.Elapsed;

        // Five waits of at least half their step: 25 + 50 + 100 + 100 + 100 ms. A storm makes six attempts in a few ms.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(375), $"six attempts took {elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(1, Volatile.Read(ref mostAtOnce));
        Assert.False(starting.IsCompleted);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
