using Aicp.Hub.Hubs;
using Aicp.Protocol;

namespace Aicp.Tests.Hub.Registry;

public sealed class RegistrationValidatorTests
{
    [Theory]
    [InlineData("Bad Id", new[] { "image.label" }, 1, ErrorCodes.InvalidAgentId)]
    [InlineData("a1", new string[0], 1, ErrorCodes.InvalidRequest)]
    [InlineData("a1", new[] { "Image.Label" }, 1, ErrorCodes.InvalidMethod)]
    [InlineData("a1", new[] { "image.label" }, 0, ErrorCodes.InvalidConcurrency)]
    [InlineData("a1", new[] { "image.label" }, 100_001, ErrorCodes.InvalidConcurrency)]
    public void Validate_BadRegistration_Code(string id, string[] capabilities, int max, string code)
    {
        var error = RegistrationValidator.Validate(new AgentRegistration { AgentId = id, Capabilities = capabilities, MaxConcurrency = max }, out _);
        Assert.Equal(code, error?.Code);
    }

    [Fact]
    public void Validate_TooManyCapabilities_Refused()
    {
        var capabilities = Enumerable.Range(0, 257).Select(i => $"m{i}").ToArray();
        var error = RegistrationValidator.Validate(new AgentRegistration { AgentId = "a", Capabilities = capabilities, MaxConcurrency = 1 }, out _);
        Assert.Equal(ErrorCodes.TooManyCapabilities, error?.Code);
    }

    [Fact]
    public void Validate_DuplicateCapabilities_Deduplicated()
    {
        var error = RegistrationValidator.Validate(new AgentRegistration { AgentId = "a", Capabilities = ["x", "x", "y"], MaxConcurrency = 1 }, out var capabilities);
        Assert.Null(error);
        Assert.Equal(["x", "y"], capabilities);
    }
}
