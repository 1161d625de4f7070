using Microsoft.AspNetCore.SignalR.Client;
using Polly;
using Polly.Retry;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// The one connect and reconnect policy of a client: exponential backoff from
/// <see cref="AicpConnectionOptions.ReconnectInitialDelay"/>, doubling up to <see cref="AicpConnectionOptions.ReconnectMaxDelay"/>,
/// each delay drawn in [50%, 100%) of its step so a fleet that lost its hub does not come back in step; forever,
/// until the owner stops. The same delays drive the Polly retry of the first connect (and of any connect after the
/// SignalR client gave up) and, through <see cref="IRetryPolicy"/>, SignalR's own automatic reconnect. The owner decides
/// which failures the retry handles (<c>retryable</c>); the others end the connect step with their exception.
/// </summary>
internal sealed class ReconnectPolicy : IRetryPolicy
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Func<double> _random;
    private readonly CancellationToken _stopping;

    public ReconnectPolicy(AicpConnectionOptions options, CancellationToken stopping, Action<OnRetryArguments<object>>? onRetry = null,
        Func<double>? random = null, Func<Exception, bool>? retryable = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ReconnectInitialDelay, TimeSpan.Zero, nameof(options.ReconnectInitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReconnectMaxDelay, options.ReconnectInitialDelay, nameof(options.ReconnectMaxDelay));
        _initial = options.ReconnectInitialDelay;
        _max = options.ReconnectMaxDelay;
        _random = random ?? Random.Shared.NextDouble;
        _stopping = stopping;
        Pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            // A failure to connect or to run the owner's on-connected step is retried unless the owner says it is final;
            // the owner's token ends the retries.
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && (retryable?.Invoke(ex) ?? true)),
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(args.AttemptNumber)),
            OnRetry = args =>
            {
                onRetry?.Invoke(args);
                return default;
            },
        }).Build();
    }

    /// <summary>Runs a connect step until it succeeds or its cancellation token fires.</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <summary>The delay before retry <paramref name="retry"/> (0 for the first retry).</summary>
    public TimeSpan Delay(int retry)
    {
        var step = Math.Min(_max.Ticks, _initial.Ticks * Math.Pow(2, Math.Min(retry, 40)));
        return TimeSpan.FromTicks((long)(step * (0.5 + (_random() / 2))));
    }

    /// <summary>SignalR's automatic reconnect: the same delays, forever, until the owner stops.</summary>
    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        _stopping.IsCancellationRequested ? null : Delay((int)Math.Min(retryContext.PreviousRetryCount, int.MaxValue));
}
