using Aicp.Agent.Sdk.Connection;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aicp.Tests.Sdk.Connection;

public sealed class ReconnectPolicyTests
{
    private static AicpConnectionOptions Options(int initialMs, int maxMs) => new()
    {
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(initialMs), ReconnectMaxDelay = TimeSpan.FromMilliseconds(maxMs),
    };

    [Theory]
    [InlineData(0.0, new[] { 50, 100, 200, 400, 500, 500 })]
    [InlineData(0.999_999, new[] { 100, 200, 400, 800, 1000, 1000 })]
    public void Delay_DoublesUpToTheCap_JitterBetweenHalfAndAllOfTheStep(double random, int[] expectedMs)
    {
        var policy = new ReconnectPolicy(Options(100, 1000), CancellationToken.None, random: () => random);

        var delays = Enumerable.Range(0, expectedMs.Length).Select(i => (int)Math.Round(policy.Delay(i).TotalMilliseconds));

        Assert.Equal(expectedMs, delays);
        Assert.Equal(expectedMs[^1], (int)Math.Round(policy.Delay(int.MaxValue).TotalMilliseconds));
    }

    [Fact]
    public void NextRetryDelay_SameDelaysAsThePipeline_NoneOnceStopping()
    {
        using var stopping = new CancellationTokenSource();
        var policy = new ReconnectPolicy(Options(100, 1000), stopping.Token, random: () => 0.5);

        Assert.Equal(policy.Delay(0), policy.NextRetryDelay(new RetryContext { PreviousRetryCount = 0 }));
        Assert.Equal(policy.Delay(3), policy.NextRetryDelay(new RetryContext { PreviousRetryCount = 3, ElapsedTime = TimeSpan.FromHours(1) }));

        stopping.Cancel();
        Assert.Null(policy.NextRetryDelay(new RetryContext { PreviousRetryCount = 0 }));
    }

    [Fact]
    public async Task Pipeline_FailingStep_RetriedUntilItSucceeds_EachRetryReported()
    {
        var retries = new List<int>();
        var policy = new ReconnectPolicy(Options(1, 4), CancellationToken.None, args => retries.Add(args.AttemptNumber));
        var calls = 0;

        await policy.Pipeline.ExecuteAsync(_ => ++calls < 5 ? throw new IOException("refused") : ValueTask.CompletedTask).AsTask().DefaultTimeout();

        Assert.Equal(5, calls);
        Assert.Equal([0, 1, 2, 3], retries);
    }

    [Fact]
    public async Task Pipeline_OwnerCancels_StopsRetrying()
    {
        using var cancel = new CancellationTokenSource();
        var policy = new ReconnectPolicy(Options(1, 4), CancellationToken.None);
        var calls = 0;

        var run = policy.Pipeline.ExecuteAsync(_ =>
        {
            if (++calls == 3)
            {
                cancel.Cancel();
            }

            throw new IOException("refused");
        }, cancel.Token).AsTask();

        await Assert.ThrowsAnyAsync<Exception>(() => run.DefaultTimeout());
        Assert.Equal(3, calls);
    }
}
