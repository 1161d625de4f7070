using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// What each attempt's end teaches the agent's service-time model: the latency against the load the agent held when
/// the task was sent, counting the queue it reported on top of the tasks the hub sent it.
/// </summary>
public sealed class TaskDispatcherServiceTimeTests
{
    private readonly DispatcherFixture _f = new();

    [Theory]
    [InlineData(0, 90.0)] // alone: one task at a time, 90 ms each
    [InlineData(2, 30.0)] // behind its own queue of two: 90 ms for three tasks' worth of work, 30 ms each
    public async Task Completion_LearnsTheLatencyAgainstPendingPlusTheReportedQueue(int reportedQueue, double serviceMs)
    {
        _f.Create();
        var agent = _f.Register("a");
        if (reportedQueue > 0)
        {
            agent.RecordLoad(new AgentLoadReport { QueueDepth = reportedQueue }, _f.Time.GetUtcNow());
        }

        var task = _f.Submit();
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(90));
        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(0, result.Route[0].Pending); // the route shows what the hub had sent it
        var model = agent.For(DispatcherFixture.Method)!.Service;
        Assert.Equal(serviceMs, model.BaseMs, 6);
        Assert.Equal(serviceMs, model.PerTaskMs, 6);
    }

    [Fact]
    public async Task Timeout_LearnsTheElapsedTimeAgainstTheLoadAtTheSend()
    {
        _f.Create();
        var agent = _f.Register("a");
        agent.RecordLoad(new AgentLoadReport { QueueDepth = 3 }, _f.Time.GetUtcNow());

        var task = _f.Submit(DispatcherFixture.Request(timeoutMs: 400, maxAttempts: 1));
        await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(400));
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Timeout, result.Status);
        var model = agent.For(DispatcherFixture.Method)!.Service;
        Assert.Equal(100, model.BaseMs, 6); // 400 ms for four tasks' worth (three queued and this one)
        Assert.Equal(1, agent.TimedOut);
    }
}
