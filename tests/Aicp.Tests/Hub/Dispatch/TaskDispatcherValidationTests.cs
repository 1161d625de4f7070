using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>What a submitter may ask for: every limit accepted exactly at its edge and refused one past it, with a message that says why.</summary>
public sealed class TaskDispatcherValidationTests
{
    private readonly DispatcherFixture _f = new();

    [Theory]
    [InlineData(ProtocolDefaults.MinTimeoutMs, 1, null)]
    [InlineData(ProtocolDefaults.MaxTimeoutMs, 1, null)]
    [InlineData(10_000, 1, null)]
    [InlineData(10_000, ProtocolDefaults.MaxAttemptsLimit, null)]
    [InlineData(10_000, 3, 1)]
    [InlineData(10_000, 3, ProtocolDefaults.MaxDeadlineMs)]
    public async Task Submit_LimitsAtTheirEdges_AcceptedAndSent(int timeoutMs, int maxAttempts, int? deadlineMs)
    {
        var agent = _f.Register("a");
        var task = _f.Submit(DispatcherFixture.Request(timeoutMs, maxAttempts, deadlineMs));
        var (_, sent) = await _f.Channel.NextAsync();
        Assert.Equal(Math.Min(timeoutMs, deadlineMs ?? int.MaxValue), sent.TimeoutMs);
        _f.Answer(agent, sent);

        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("a", result.AgentId);
    }

    [Theory]
    [InlineData(ProtocolDefaults.MinTimeoutMs - 1, 1, null, ErrorCodes.InvalidTimeout, "1..600000; got 0")]
    [InlineData(ProtocolDefaults.MaxTimeoutMs + 1, 1, null, ErrorCodes.InvalidTimeout, "1..600000; got 600001")]
    [InlineData(10_000, 0, null, ErrorCodes.InvalidMaxAttempts, "1..10; got 0")]
    [InlineData(10_000, ProtocolDefaults.MaxAttemptsLimit + 1, null, ErrorCodes.InvalidMaxAttempts, "1..10; got 11")]
    [InlineData(10_000, 1, 0, ErrorCodes.InvalidDeadline, "1..3600000; got 0")]
    [InlineData(10_000, 1, ProtocolDefaults.MaxDeadlineMs + 1, ErrorCodes.InvalidDeadline, "1..3600000; got 3600001")]
    public async Task Submit_LimitOnePastItsEdge_RejectedWithTheRangeAndTheValue(int timeoutMs, int maxAttempts, int? deadlineMs, string code, string says)
    {
        _f.Register("a");
        var result = await _f.Submit(DispatcherFixture.Request(timeoutMs, maxAttempts, deadlineMs)).DefaultTimeout();

        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(code, result.Error?.Code);
        Assert.EndsWith(says + ".", result.Error?.Message);
        Assert.Equal(0, result.Attempts);
        Assert.True(_f.Channel.IsEmpty);
    }

    [Fact]
    public async Task Submit_UnknownStrategy_RejectedNamingTheKnownOnes()
    {
        _f.Register("a");
        var result = await _f.Submit(DispatcherFixture.Request(strategy: "fastest")).DefaultTimeout();

        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(ErrorCodes.UnknownStrategy, result.Error?.Code);
        Assert.Equal("Unknown strategy 'fastest'; known: adaptive, least-loaded, performance-based, power-of-two, random, round-robin, trust-weighted, weighted.",
            result.Error?.Message);
        Assert.Equal("fastest", result.Strategy);
    }

    [Theory]
    [InlineData("Image.Label", "Image.Label")]
    [InlineData("", "")]
    public async Task Submit_InvalidMethod_RejectedQuotingIt(string method, string quoted)
    {
        var result = await _f.Submit(new TaskRequest { Method = method }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(ErrorCodes.InvalidMethod, result.Error?.Code);
        Assert.EndsWith($"got '{quoted}'.", result.Error?.Message);
        Assert.Equal("adaptive", result.Strategy); // the hub default, as the result of any task names its strategy
    }

    [Fact]
    public async Task Submit_MethodNameLongerThanSixtyFourCharacters_QuotedCutShort()
    {
        var method = new string('X', 200);
        var result = await _f.Submit(new TaskRequest { Method = method }).DefaultTimeout();

        Assert.Equal(ErrorCodes.InvalidMethod, result.Error?.Code);
        Assert.EndsWith($"got '{new string('X', 64)}...'.", result.Error?.Message);
    }

    [Fact]
    public async Task Submit_InvalidMethodOfSixtyFourCharacters_QuotedWhole()
    {
        var method = new string('X', 64);
        var result = await _f.Submit(new TaskRequest { Method = method }).DefaultTimeout();

        Assert.EndsWith($"got '{method}'.", result.Error?.Message);
    }

    [Fact]
    public async Task Submit_RejectedRequestNamingAStrategy_ResultNamesThatStrategy()
    {
        var result = await _f.Submit(new TaskRequest { Method = "Image.Label", Strategy = "least-loaded" }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal("least-loaded", result.Strategy);
    }

    [Fact]
    public async Task Submit_NullRequest_RejectedAsInvalidMethod()
    {
        var result = await _f.Dispatcher.SubmitAsync(null!, CancellationToken.None).DefaultTimeout();

        Assert.Equal(TaskStatuses.Rejected, result.Status);
        Assert.Equal(ErrorCodes.InvalidMethod, result.Error?.Code);
        Assert.EndsWith("got ''.", result.Error?.Message);
        Assert.False(string.IsNullOrEmpty(result.TaskId));
    }

    [Fact]
    public async Task Submit_NoPayload_SentWithoutOneAndTheResultComesBack()
    {
        var agent = _f.Register("a");
        var task = _f.Submit(new TaskRequest { Method = DispatcherFixture.Method, TimeoutMs = 10_000 });
        var (_, sent) = await _f.Channel.NextAsync();

        Assert.Null(sent.Payload);
        Assert.Equal(DispatcherFixture.Method, sent.Method);
        Assert.Equal(1, sent.Attempt);
        Assert.Equal(10_000, sent.TimeoutMs);
        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(sent.TaskId, result.TaskId);
    }
}
