using Aicp.Hub.Dispatch;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

public sealed class AttemptBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private AttemptBudget Budget(double ratio, double minPerSecond) =>
        new(ratio, minPerSecond, TimeSpan.FromSeconds(10), _time.TimestampFrequency);

    private int WithdrawAll(AttemptBudget budget)
    {
        var taken = 0;
        while (taken < 10_000 && budget.TryWithdraw(_time.GetTimestamp()))
        {
            taken++;
        }

        return taken;
    }

    [Fact]
    public void TryWithdraw_TwentyPercentOfRecentTasks_ExactlyThatManyThenRefused()
    {
        var budget = Budget(0.2, 0);
        for (var i = 0; i < 100; i++)
        {
            budget.Deposit(_time.GetTimestamp());
        }

        Assert.Equal(20, WithdrawAll(budget));
        Assert.False(budget.HasBalance(_time.GetTimestamp()));

        budget.Deposit(_time.GetTimestamp());
        Assert.False(budget.TryWithdraw(_time.GetTimestamp())); // 21 > 0.2 x 101
        for (var i = 0; i < 4; i++)
        {
            budget.Deposit(_time.GetTimestamp());
        }

        Assert.True(budget.TryWithdraw(_time.GetTimestamp())); // 21 <= 0.2 x 105
    }

    [Fact]
    public void TryWithdraw_NoTraffic_FloorPerSecondOverTheWindow()
    {
        Assert.Equal(100, WithdrawAll(Budget(0.2, 10))); // 10/s x 10 s
        Assert.Equal(0, WithdrawAll(Budget(0.2, 0)));
    }

    [Fact]
    public void TryWithdraw_WindowPassed_OldTasksAndWithdrawalsNoLongerCount()
    {
        var budget = Budget(0.5, 0);
        for (var i = 0; i < 10; i++)
        {
            budget.Deposit(_time.GetTimestamp());
        }

        Assert.Equal(5, WithdrawAll(budget));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(budget.HasBalance(_time.GetTimestamp())); // the deposits left the window with the withdrawals

        budget.Deposit(_time.GetTimestamp());
        budget.Deposit(_time.GetTimestamp());
        Assert.Equal(1, WithdrawAll(budget));
    }

    [Fact]
    public void HasBalance_TasksLeaveTheWindowBucketByBucket()
    {
        var budget = Budget(0.5, 0);
        for (var i = 0; i < 10; i++)
        {
            budget.Deposit(_time.GetTimestamp()); // on a bucket's first tick
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        budget.Deposit(_time.GetTimestamp()); // the next bucket: 11 tasks in the window
        _time.Advance(TimeSpan.FromMilliseconds(8_500));
        Assert.True(budget.HasBalance(_time.GetTimestamp())); // 9.5 s after the first ten: all 11 count (1 <= 5.5)

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.False(budget.HasBalance(_time.GetTimestamp())); // 10 s: the first ten left, one task buys half an attempt
    }
}
