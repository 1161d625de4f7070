using Aicp.Hub.Routing;
using Aicp.Protocol;
using Polly;
using Polly.Hedging;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// Hedged requests on Polly's hedging strategy. The dispatcher's model maps onto it one to one: the primary action is
/// the attempt already holding its slot; after the hedge delay Polly asks for one hedged action, which takes a slot on
/// an untried agent (without waiting: a hedge never queues behind other tasks) and runs as an attempt of its own; the
/// first acceptable outcome wins and Polly cancels the other action's token, which ends that attempt as
/// <c>superseded</c> (its slot released, Cancel sent to its agent); Polly returns only after every action has finished,
/// so the task's one result comes after both slots are back.
/// <para>
/// What the hub adds around it: the delay is the capability's observed percentile (or a configured delay), the hedge
/// budget and the free-slot check decide whether the hedged action exists at all (the action generator returns null
/// otherwise, and the delay generator then waits for the primary alone), and an attempt that fails is not retried
/// inside the round: the round accepts only a completion, waits for the other attempt when one fails, and leaves
/// failover to the dispatcher's loop with its retry budget and deadline.
/// </para>
/// </summary>
internal sealed partial class TaskDispatcher
{
    /// <summary>Completed attempts a capability needs in its window before its observed percentile is used as the hedge delay.</summary>
    internal const int HedgeMinSamples = 20;

    // Stryker disable once String : the same key object sets and reads the round; its name is never shown
    private static readonly ResiliencePropertyKey<HedgeRound> RoundKey = new("aicp.hedge-round");

    private static ResiliencePipeline<AttemptResult> BuildHedgingPipeline(TimeProvider time) =>
        new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
            .AddHedging(new HedgingStrategyOptions<AttemptResult>
            {
                MaxHedgedAttempts = 1,
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is null && args.Outcome.Result.End.Outcome is not (AttemptOutcomes.Completed or AttemptOutcomes.Cancelled)),
                DelayGenerator = static args => ValueTask.FromResult(args.Context.Properties.GetValue(RoundKey, null!).Delay()),
                ActionGenerator = static args => args.PrimaryContext.Properties.GetValue(RoundKey, null!).TryHedge(args.ActionContext.CancellationToken),
            })
            .Build();

    /// <summary>Runs the attempt <paramref name="primary"/> holds, with at most one hedge, and returns the round's one outcome.</summary>
    private async Task<AttemptResult> RunHedgedAsync(TaskRun run, CapabilityDispatch dispatch, Acquisition primary, int number, int timeoutMs)
    {
        var round = new HedgeRound(this, run, dispatch, primary, number, timeoutMs);
        var context = ResilienceContextPool.Shared.Get(run.CancellationToken);
        context.Properties.Set(RoundKey, round);
        Outcome<AttemptResult> outcome;
        try
        {
            outcome = await _hedging.ExecuteOutcomeAsync(static (ctx, round) => round.RunPrimaryAsync(ctx.CancellationToken), context, round);
        }
        finally
        {
            // Stryker disable once Statement : only the context's reuse is lost
            ResilienceContextPool.Shared.Return(context);
        }

        if (!round.PrimaryStarted)
        {
            // Polly saw the submitter's cancel before it started the primary: run it on the cancelled token, which ends
            // it at once as cancelled and gives its slot back.
            return await RunAttemptAsync(run, primary, number, timeoutMs, hedge: false, run.CancellationToken);
        }

        if (outcome.Exception is not null)
        {
            return new AttemptResult(AttemptEnd.Cancelled, primary.Agent!.AgentId, Hedge: false);
        }

        if (outcome.Result is { Hedge: true, End.Outcome: AttemptOutcomes.Completed })
        {
            _telemetry.HedgeWon(run.Method);
        }

        return outcome.Result;
    }

    /// <summary>One hedging round: the primary attempt and, when the delay passes with budget and a free agent, one hedge.</summary>
    private sealed class HedgeRound(TaskDispatcher dispatcher, TaskRun run, CapabilityDispatch dispatch, Acquisition primary, int number, int timeoutMs)
    {
        private volatile bool _primaryEnded;
        private volatile bool _declined;

        public bool PrimaryStarted { get; private set; }

        public async ValueTask<Outcome<AttemptResult>> RunPrimaryAsync(CancellationToken cancellationToken)
        {
            PrimaryStarted = true;
            var result = await dispatcher.RunAttemptAsync(run, primary, number, timeoutMs, hedge: false, cancellationToken);
            _primaryEnded = true;
            return Outcome.FromResult(result);
        }

        /// <summary>How long to wait before the hedge: infinite (wait for the primary alone) once a hedge was declined.</summary>
        public TimeSpan Delay()
        {
            // Stryker disable once Block : TryHedge checks _declined first, so a declined round gets no hedge whatever delay is returned
            if (_declined)
            {
                return Timeout.InfiniteTimeSpan;
            }

            var options = dispatcher._options.Hedging;
            if (options.Delay is { } fixedDelay)
            {
                return fixedDelay;
            }

            var observed = dispatch.Latencies.Percentile(options.Percentile, dispatcher._time.GetTimestamp(), HedgeMinSamples);
            if (observed is null)
            {
                _declined = true; // too few samples to know what slow is
                return Timeout.InfiniteTimeSpan;
            }

            return TimeSpan.FromMilliseconds(observed.Value);
        }

        /// <summary>The hedge as an action of its own, its slot taken; null when there is to be none.</summary>
        public Func<ValueTask<Outcome<AttemptResult>>>? TryHedge(CancellationToken cancellationToken)
        {
            var now = dispatcher._time.GetTimestamp();
            if (_declined || _primaryEnded || run.AttemptsLeft == 0 || now >= run.Deadline || !dispatch.Hedges.HasBalance(now)
                || dispatcher._registry.GetPool(run.Method) is not { } pool)
            {
                _declined = true; // a primary that already failed goes to the dispatcher's failover instead
                return null;
            }

            var picked = dispatcher.TryPick(pool, run.Strategy, run.Tried.Span, acrossNodes: false, out _);
            if (picked.Agent is null)
            {
                _declined = true; // no untried agent has a free slot: a hedge does not queue
                return null;
            }

            dispatch.Hedges.TryWithdraw(now);
            var hedgeNumber = run.StartAttempt(picked.Agent.AgentId);
            var hedgeTimeoutMs = dispatcher.AttemptTimeoutMs(run);
            return async () => Outcome.FromResult(
                await dispatcher.RunAttemptAsync(run, picked, hedgeNumber, hedgeTimeoutMs, hedge: true, cancellationToken));
        }
    }
}
