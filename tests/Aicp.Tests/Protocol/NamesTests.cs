using Aicp.Protocol;

namespace Aicp.Tests.Protocol;

public class NamesTests
{
    [Theory]
    [InlineData("image.label")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("agent-1_x.y")]
    public void IsValid_GrammarName_True(string name) => Assert.True(Names.IsValid(name));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Image.label")]
    [InlineData(".label")]
    [InlineData("-x")]
    [InlineData("a b")]
    [InlineData("a/b")]
    public void IsValid_OutsideGrammar_False(string? name) => Assert.False(Names.IsValid(name));

    [Fact]
    public void IsValid_LengthLimit_128AcceptedAnd129Refused()
    {
        Assert.True(Names.IsValid(new string('a', 128)));
        Assert.False(Names.IsValid(new string('a', 129)));
    }
}
