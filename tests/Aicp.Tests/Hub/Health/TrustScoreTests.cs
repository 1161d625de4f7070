using Aicp.Hub.Health;

namespace Aicp.Tests.Hub.Health;

public sealed class TrustScoreTests
{
    [Fact]
    public void Success_MovesFivePercentOfTheWayToOne()
    {
        var trust = new TrustScore();
        Assert.Equal(0.5, trust.Value);
        trust.Success();
        Assert.Equal(0.525, trust.Value, 12);
        trust.Success();
        Assert.Equal(0.54875, trust.Value, 12);
    }

    [Fact]
    public void Error_TakesTenPercentAway()
    {
        var trust = new TrustScore();
        trust.Error();
        Assert.Equal(0.45, trust.Value, 12);
        trust.Error();
        Assert.Equal(0.405, trust.Value, 12);
    }

    [Fact]
    public void Timeout_TakesTwentyPercentAway()
    {
        var trust = new TrustScore();
        trust.Timeout();
        Assert.Equal(0.4, trust.Value, 12);
        trust.Timeout();
        Assert.Equal(0.32, trust.Value, 12);
    }

    [Fact]
    public void Success_FromManyThreadsAtOnce_NoUpdateLost()
    {
        var trust = new TrustScore();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => trust.Success());

        // Each success leaves 95% of the gap to 1, in any order.
        Assert.Equal(1 - 0.5 * Math.Pow(0.95, 400), trust.Value, 12);
    }
}
