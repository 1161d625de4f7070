using Aicp.Hub.Dispatch;

namespace Aicp.Tests.Hub.Dispatch;

public sealed class TaskIdsTests
{
    [Fact]
    public void New_ThousandsOnSeveralThreads_AllDistinct32LowercaseHex()
    {
        // 1,000 per thread: each thread's block of 64 ids is refilled 15 times.
        const int threads = 4, perThread = 1_000;
        var ids = new string[threads][];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => ids[t] = Enumerable.Range(0, perThread).Select(_ => TaskIds.New()).ToArray())).ToList();
        workers.ForEach(w => w.Start());
        Assert.All(workers, w => Assert.True(w.Join(TimeSpan.FromSeconds(30))));

        var all = ids.SelectMany(i => i).ToList();
        Assert.Equal(threads * perThread, all.Count);
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, id =>
        {
            Assert.Equal(32, id.Length);
            Assert.True(id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'), id);
        });
    }

    [Fact]
    public void New_BitsAreSpread_EveryHexDigitAtEveryPosition()
    {
        // Ids made of zeros, of one block repeated, or of a counter would leave positions with few distinct digits.
        var ids = Enumerable.Range(0, 2_000).Select(_ => TaskIds.New()).ToList();
        for (var position = 0; position < 32; position++)
        {
            Assert.Equal(16, ids.Select(id => id[position]).Distinct().Count());
        }
    }
}
