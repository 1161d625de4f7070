using Aicp.Hub.Dashboard;

namespace Aicp.Tests.Hub.Dashboard;

public sealed class TaskLatencyRecorderTests
{
    [Theory]
    [InlineData(0.50, 50)]
    [InlineData(0.95, 95)]
    [InlineData(0.99, 99)]
    public void Quantile_UniformOneToHundredMs_WithinFivePercent(double q, double expectedMs)
    {
        var counts = new long[TaskLatencyRecorder.BucketCount];
        for (var ms = 1; ms <= 100; ms++)
        {
            counts[TaskLatencyRecorder.Bucket(ms)]++;
        }

        var estimate = TaskLatencyRecorder.Quantile(counts, q)!.Value;
        Assert.InRange(estimate, expectedMs * 0.95, expectedMs * 1.05);
    }

    [Fact]
    public void Quantile_NoSamples_Null() => Assert.Null(TaskLatencyRecorder.Quantile(new long[TaskLatencyRecorder.BucketCount], 0.5));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(1e12)]
    public void Bucket_OutOfRange_Clamped(double ms) => Assert.InRange(TaskLatencyRecorder.Bucket(ms), 0, TaskLatencyRecorder.BucketCount - 1);

    [Fact]
    public void Quantile_SubMillisecondTasks_Resolved()
    {
        var counts = new long[TaskLatencyRecorder.BucketCount];
        counts[TaskLatencyRecorder.Bucket(0.3)] += 90;
        counts[TaskLatencyRecorder.Bucket(4)] += 10;

        Assert.InRange(TaskLatencyRecorder.Quantile(counts, 0.5)!.Value, 0.285, 0.315);
        Assert.InRange(TaskLatencyRecorder.Quantile(counts, 0.95)!.Value, 3.8, 4.2);
    }
}
