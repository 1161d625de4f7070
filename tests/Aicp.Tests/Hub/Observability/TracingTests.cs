using System.Collections.Concurrent;
using System.Diagnostics;
using Aicp.Agent.Sdk.Client;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Observability;

/// <summary>The <c>Aicp.Hub</c> ActivitySource: a submit span, one span per attempt and one per completion, with their tags.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Submit_FailoverThenSuccess_SubmitAttemptAndCompletionSpansWithTags()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == HubTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("trace-bad", (_, _) => throw new InvalidOperationException("boom"), method: "trace.test");
        var client = await h.StartClientAsync();
        // The only agent fails: one attempt with an error, then no untried agent -> failed. Then add a good one.
        var failed = await client.SubmitAsync("trace.test", null, new SubmitOptions { MaxAttempts = 1 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, failed.Status);
        await h.StartAgentAsync("trace-good", HubHarness.Echo("trace-good"), method: "trace.test");
        TaskResult result;
        var tries = 0;
        do
        {
            // Round-robin alternates the two agents: within two tasks one starts on the bad agent and fails over.
            result = await client.SubmitAsync("trace.test", null, new SubmitOptions { Strategy = new RoutingStrategy("round-robin"), MaxAttempts = 2 }).DefaultTimeout();
        }
        while (result.Attempts != 2 && ++tries < 4);

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Activity Find(string name, Func<Activity, bool> match) => stopped.Single(a => a.OperationName == name && match(a));
        string? Tag(Activity a, string key) => a.GetTagItem(key)?.ToString();
        await TestTimeouts.Eventually(() => stopped.Any(a => a.OperationName == HubTracing.SubmitSpan && Tag(a, HubTracing.TaskIdTag) == result.TaskId), "submit span stopped");

        var submit = Find(HubTracing.SubmitSpan, a => Tag(a, HubTracing.TaskIdTag) == result.TaskId);
        Assert.Equal(("trace.test", "completed", "trace-good", "2"), (Tag(submit, HubTracing.MethodTag), Tag(submit, HubTracing.StatusTag), Tag(submit, HubTracing.AgentTag), Tag(submit, HubTracing.AttemptsTag)));
        Assert.Equal(ActivityStatusCode.Ok, submit.Status);

        var attempts = stopped.Where(a => a.OperationName == HubTracing.AttemptSpan && Tag(a, HubTracing.TaskIdTag) == result.TaskId)
            .OrderBy(a => (int)a.GetTagItem(HubTracing.AttemptTag)!).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(submit.SpanId, a.ParentSpanId));
        Assert.All(attempts, a => Assert.Equal(submit.TraceId, a.TraceId));
        Assert.Equal([("trace-bad", "error"), ("trace-good", "completed")], attempts.Select(a => (Tag(a, HubTracing.AgentTag), Tag(a, HubTracing.OutcomeTag))));
        Assert.Equal("handler_exception", Tag(attempts[0], HubTracing.ErrorCodeTag));

        var completions = stopped.Where(a => a.OperationName == HubTracing.CompleteSpan && Tag(a, HubTracing.TaskIdTag) == result.TaskId)
            .OrderBy(a => (int)a.GetTagItem(HubTracing.AttemptTag)!).ToList();
        Assert.Equal(2, completions.Count);
        Assert.Equal(attempts.Select(a => a.SpanId), completions.Select(c => c.ParentSpanId));
        Assert.Equal([("trace-bad", "error", "True"), ("trace-good", "completed", "True")],
            completions.Select(c => (Tag(c, HubTracing.AgentTag), Tag(c, HubTracing.OutcomeTag), Tag(c, HubTracing.MatchedTag))));

        var failedSubmit = Find(HubTracing.SubmitSpan, a => Tag(a, HubTracing.TaskIdTag) == failed.TaskId);
        Assert.Equal(("failed", "handler_exception"), (Tag(failedSubmit, HubTracing.StatusTag), Tag(failedSubmit, HubTracing.ErrorCodeTag)));
        Assert.Equal(ActivityStatusCode.Error, failedSubmit.Status);
    }
}
