namespace Aicp.Tests.Infrastructure;

/// <summary>Every await in a test is bounded by one of these.</summary>
public static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    /// <summary>Polls a condition until it holds or the bound passes; fails the test on timeout.</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Polls an asynchronous condition until it holds or the bound passes; fails the test on timeout, saying <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, Func<string>? last = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Default);
        while (!await condition().WaitAsync(Default))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}{(last is null ? "" : "; last seen: " + last())}");
            }

            await Task.Delay(20);
        }
    }
}
