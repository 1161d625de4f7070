using Aicp.Hub.Routing;

namespace Aicp.Tests.Hub.Routing;

public sealed class RandomSourceTests
{
    private static (int[] Ints, double[] Doubles) Draw(IRandomSource source)
    {
        var ints = new int[20];
        var doubles = new double[20];
        for (var i = 0; i < ints.Length; i++)
        {
            ints[i] = source.Next(1_000_000);
            doubles[i] = source.NextDouble();
        }

        return (ints, doubles);
    }

    [Fact]
    public void Seeded_SameSeed_SameSequence()
    {
        var (ints, doubles) = Draw(new DefaultRandomSource(7));
        var (againInts, againDoubles) = Draw(new DefaultRandomSource(7));
        Assert.Equal(ints, againInts);
        Assert.Equal(doubles, againDoubles);
    }

    [Fact]
    public void Seeded_OtherSeed_OtherSequence()
    {
        var (ints, doubles) = Draw(new DefaultRandomSource(7));
        var (otherInts, otherDoubles) = Draw(new DefaultRandomSource(8));
        Assert.NotEqual(ints, otherInts);
        Assert.NotEqual(doubles, otherDoubles);
    }

    [Fact]
    public void Unseeded_DrawsInRange()
    {
        var (ints, doubles) = Draw(new DefaultRandomSource());
        Assert.All(ints, i => Assert.InRange(i, 0, 999_999));
        Assert.All(doubles, d => Assert.True(d is >= 0 and < 1));
        Assert.True(ints.Distinct().Count() > 1);
    }
}
