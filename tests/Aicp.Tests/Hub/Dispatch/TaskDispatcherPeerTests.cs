using System.Text.Json;
using Aicp.Hub.Cluster;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// The owner node's side of an attempt another node sent (docs/CLUSTER.md, "Run"): the agent's slot taken here or the
/// attempt refused, the agent sent exactly what the asker sent, the answer carrying the attempt's end, and the attempt
/// counted here as any attempt on the agent, but not as a failover or a hedge (the asker counts those).
/// </summary>
public sealed class TaskDispatcherPeerTests
{
    private const string Self = "node-1";

    private static readonly Func<TaskPayload, Task> NoChunks = _ => throw new InvalidOperationException("not a streamed attempt");

    private readonly DispatcherFixture _f = new();

    private static PeerMessage Execute(string agentId = "a", int attempt = 2, string method = DispatcherFixture.Method, int timeoutMs = 3000) => new()
    {
        Type = PeerMessage.Execute, From = "node-2", TaskId = "0f1e2d3c", Attempt = attempt, AgentId = agentId, Method = method, TimeoutMs = timeoutMs,
        Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { image = "AAEC" })),
    };

    [Fact]
    public async Task Execute_AgentFree_RunsWhatTheAskerSentAndAnswersWithTheEnd()
    {
        _f.Create();
        var agent = _f.Register("a", maxConcurrency: 2);

        var answer = _f.Dispatcher.RunForPeerAsync(Execute(), Self, NoChunks, CancellationToken.None);
        var (to, sent) = await _f.Channel.NextAsync();
        Assert.Equal(1, agent.Pending); // the slot is taken here, on the node that holds the agent
        _f.Time.Advance(TimeSpan.FromMilliseconds(40));
        _f.Answer(to, sent);
        var result = await answer.DefaultTimeout();

        Assert.Same(agent, to);
        Assert.Equal(("0f1e2d3c", 2, DispatcherFixture.Method, 3000, """{"image":"AAEC"}"""),
            (sent.TaskId, sent.Attempt, sent.Method, sent.TimeoutMs, sent.Payload!.ToString()));
        Assert.Null(sent.Stream);
        Assert.Equal((PeerMessage.Result, Self, "0f1e2d3c", 2, AttemptOutcomes.Completed, "\"a\""),
            (result.Type, result.From, result.TaskId, result.Attempt, result.Outcome, result.ResultPayload!.ToString()));
        Assert.Null(result.Error);
        Assert.Equal((1L, 0L), (agent.Completed, agent.Failed)); // the agent's health learns from it here
        Assert.Equal((0L, 0L), (_f.Counters.Failovers, _f.Counters.Hedges)); // attempt 2, but the asker counts its failovers
        var route = Assert.Single(_f.Routes);
        Assert.Equal(("0f1e2d3c", 2, "a", AttemptOutcomes.Completed, "adaptive", 0), // the capability's strategy (the default)
            (route.TaskId, route.Attempt, route.AgentId, route.Outcome, route.Strategy, route.Inputs.Pending));
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Execute_AgentBusy_RouteRecordsTheLoadItHeld()
    {
        _f.Create();
        var agent = _f.Register("a", maxConcurrency: 2);
        var local = _f.Submit();
        var (_, first) = await _f.Channel.NextAsync();

        var answer = _f.Dispatcher.RunForPeerAsync(Execute(attempt: 1), Self, NoChunks, CancellationToken.None);
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent, ok: false);
        var result = await answer.DefaultTimeout();
        _f.Answer(agent, first);
        await local.DefaultTimeout();

        Assert.Equal((AttemptOutcomes.Error, "model_error"), (result.Outcome, result.Error?.Code));
        Assert.Null(result.ResultPayload);
        Assert.Equal(1, _f.Routes.Single(r => r.TaskId == "0f1e2d3c").Inputs.Pending); // one task of this node's own ahead of it
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Execute_AgentFull_RefusedNothingSent()
    {
        _f.Create();
        var agent = _f.Register("a", maxConcurrency: 1);
        var local = _f.Submit();
        var (_, first) = await _f.Channel.NextAsync();

        var result = await _f.Dispatcher.RunForPeerAsync(Execute(), Self, NoChunks, CancellationToken.None).DefaultTimeout();

        Assert.Equal((PeerMessage.Refused, Self, "0f1e2d3c", 2, ErrorCodes.RemoteRefused), (result.Type, result.From, result.TaskId, result.Attempt, result.Error?.Code));
        Assert.Equal("Agent 'a' on node 'node-1' has no free slot (or is draining, or its circuit is open).", result.Error!.Message);
        Assert.True(_f.Channel.IsEmpty);
        Assert.Equal(1, agent.Pending);
        _f.Answer(agent, first);
        await local.DefaultTimeout();
        _f.AssertNothingHeld(agent);
    }

    [Theory]
    [InlineData("gone", DispatcherFixture.Method)] // the agent left this node
    [InlineData("a", "text.chat")] // the agent no longer serves the capability
    public async Task Execute_AgentGoneOrNotServing_RefusedNothingSent(string agentId, string method)
    {
        _f.Create();
        var agent = _f.Register("a");

        var result = await _f.Dispatcher.RunForPeerAsync(Execute(agentId, method: method), Self, NoChunks, CancellationToken.None).DefaultTimeout();

        Assert.Equal((PeerMessage.Refused, ErrorCodes.RemoteRefused), (result.Type, result.Error?.Code));
        Assert.Equal($"Agent '{agentId}' does not serve '{method}' on node 'node-1' (any more).", result.Error!.Message);
        Assert.True(_f.Channel.IsEmpty);
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Execute_AskerCancels_AgentToldAndTheAnswerSaysCancelled()
    {
        _f.Create();
        var agent = _f.Register("a");
        using var cancel = new CancellationTokenSource();

        var answer = _f.Dispatcher.RunForPeerAsync(Execute(), Self, NoChunks, cancel.Token);
        var (_, sent) = await _f.Channel.NextAsync();
        await cancel.CancelAsync();
        var result = await answer.DefaultTimeout();

        Assert.Equal(AttemptOutcomes.Cancelled, result.Outcome);
        Assert.Equal(("a", sent.TaskId), Assert.Single(_f.Channel.Cancelled));
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Execute_AgentSilent_TimesOutOnThisNodesTimer()
    {
        _f.Create();
        var agent = _f.Register("a");

        var answer = _f.Dispatcher.RunForPeerAsync(Execute(timeoutMs: 500), Self, NoChunks, CancellationToken.None);
        await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(answer.IsCompleted);
        _f.Time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await answer.DefaultTimeout();

        Assert.Equal((AttemptOutcomes.Timeout, ErrorCodes.AgentTimeout), (result.Outcome, result.Error?.Code));
        Assert.Equal(1, agent.TimedOut);
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Execute_Streamed_ChunksRelayedInOrderBeforeTheAnswer()
    {
        _f.Create();
        var agent = _f.Register("a");
        var relayed = new List<string>();
        var execute = Execute() with { Stream = true };

        var answer = _f.Dispatcher.RunForPeerAsync(execute, Self, chunk =>
        {
            lock (relayed)
            {
                relayed.Add(chunk.ToString());
            }

            return Task.CompletedTask;
        }, CancellationToken.None);
        var (_, sent) = await _f.Channel.NextAsync();
        Assert.True(sent.Stream); // the agent is asked to stream
        foreach (var word in new[] { "one", "two", "three" })
        {
            var partial = new TaskPartial { TaskId = sent.TaskId, Attempt = sent.Attempt, Chunk = TaskPayload.FromJson(JsonSerializer.SerializeToElement(word)) };
            Assert.True(await _f.Dispatcher.PartialAsync(agent.ConnectionId, partial, CancellationToken.None).AsTask().DefaultTimeout());
        }

        _f.Answer(agent, sent);
        var result = await answer.DefaultTimeout();

        Assert.Equal(["\"one\"", "\"two\"", "\"three\""], relayed); // all of them, in order, before the answer returned
        Assert.Equal((PeerMessage.Result, AttemptOutcomes.Completed), (result.Type, result.Outcome));
        Assert.Equal(3, _f.Counters.StreamChunks);
        _f.AssertNothingHeld(agent);
    }
}
