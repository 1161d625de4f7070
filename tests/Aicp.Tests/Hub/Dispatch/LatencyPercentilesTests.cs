using Aicp.Hub.Dispatch;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

public sealed class LatencyPercentilesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private LatencyPercentiles Create() => new(TimeSpan.FromSeconds(10), _time.TimestampFrequency);

    [Theory]
    [InlineData(0.5, 500)]
    [InlineData(0.95, 950)]
    [InlineData(0.99, 990)]
    public void Percentile_OneToAThousandMs_UpperEdgeOfTheRightBucket(double quantile, double exact)
    {
        var latencies = Create();
        for (var ms = 1; ms <= 1000; ms++)
        {
            latencies.Record(ms, _time.GetTimestamp());
        }

        var value = latencies.Percentile(quantile, _time.GetTimestamp(), minSamples: 20)!.Value;
        Assert.InRange(value, exact, exact * 1.1); // buckets are 9% wide; the upper edge errs long
    }

    [Theory]
    [InlineData(0.1, 0.125)] // below the smallest bucket's edge: the first bucket
    [InlineData(0.125, 0.13631)] // exactly the edge: the next bucket, whose upper edge is 2^(1/8) higher
    public void Percentile_AroundTheSmallestBucket_ItsOwnBucketsUpperEdge(double ms, double upperEdge)
    {
        var latencies = Create();
        latencies.Record(ms, _time.GetTimestamp());

        Assert.Equal(upperEdge, latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 1)!.Value, 5);
    }

    [Fact]
    public void Percentile_FewerSamplesThanAsked_Null()
    {
        var latencies = Create();
        for (var i = 0; i < 19; i++)
        {
            latencies.Record(10, _time.GetTimestamp());
        }

        Assert.Null(latencies.Percentile(0.95, _time.GetTimestamp(), minSamples: 20));
        latencies.Record(10, _time.GetTimestamp());
        Assert.NotNull(latencies.Percentile(0.95, _time.GetTimestamp(), minSamples: 20));
    }

    [Fact]
    public void Percentile_TwoWindowsLater_OldSamplesGone()
    {
        var latencies = Create();
        for (var i = 0; i < 50; i++)
        {
            latencies.Record(100, _time.GetTimestamp());
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.NotNull(latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 20)); // the previous window still counts
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 1));
    }

    [Fact]
    public void Percentile_SamplesOfThePreviousWindow_CountWithTheCurrentOnes()
    {
        var latencies = Create();
        for (var i = 0; i < 10; i++)
        {
            latencies.Record(10, _time.GetTimestamp());
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 10; i++)
        {
            latencies.Record(100, _time.GetTimestamp());
        }

        // 20 samples, the median exactly the last of the ten at 10 ms: the upper edge of their bucket
        Assert.InRange(latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 20)!.Value, 10, 11);
    }

    [Fact]
    public void Percentile_SeveralWindowsSkipped_BothWindowsEmpty()
    {
        var latencies = Create();
        latencies.Record(10, _time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(10));
        latencies.Record(10, _time.GetTimestamp()); // one sample in each window

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 1));
    }

    [Fact]
    public void Record_LatencyBeyondTheLargestBucket_CountsInIt()
    {
        var latencies = Create();
        latencies.Record(TimeSpan.FromHours(10).TotalMilliseconds, _time.GetTimestamp());

        Assert.Equal(0.125 * Math.Pow(2, 26), latencies.Percentile(0.5, _time.GetTimestamp(), minSamples: 1));
    }
}
