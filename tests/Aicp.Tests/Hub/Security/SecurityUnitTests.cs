using Aicp.Hub.Configuration;
using Aicp.Hub.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Hub.Security;

public sealed class NamePatternTests
{
    [Theory]
    [InlineData("gpu-*", "gpu-1", true)]
    [InlineData("gpu-*", "gpu-", true)]
    [InlineData("gpu-*", "cpu-1", false)]
    [InlineData("image.*", "image.label", true)]
    [InlineData("*.label", "image.label", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("*", "anything", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exactly", false)]
    public void Matches_Glob_Expected(string pattern, string name, bool expected) =>
        Assert.Equal(expected, NamePattern.Matches(pattern, name));

    [Fact]
    public void AnyMatches_NoPatterns_Unbound() => Assert.True(NamePattern.AnyMatches([], "x"));

    [Theory]
    [InlineData("gpu-*", true)]
    [InlineData("GPU", false)]
    [InlineData("a b", false)]
    [InlineData("", false)]
    public void IsValid_Pattern_Expected(string pattern, bool expected) => Assert.Equal(expected, NamePattern.IsValid(pattern));
}

public sealed class ListenAddressGuardTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://10.1.2.3:5000", false)]
    [InlineData("http://hub.example.com:5000", false)]
    public void IsLoopback_Address_Expected(string address, bool expected) => Assert.Equal(expected, ListenAddressGuard.IsLoopback(address));

    [Fact]
    public void ConfiguredAddresses_HttpPorts_BindEveryInterface()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:1", ["HTTP_PORTS"] = "8080", ["Kestrel:Endpoints:Web:Url"] = "http://0.0.0.0:9",
        }).Build();
        var addresses = ListenAddressGuard.ConfiguredAddresses(config).ToList();
        Assert.Equal(["http://127.0.0.1:1", "http://*:8080", "http://0.0.0.0:9"], addresses);
    }
}

public sealed class AicpSecurityOptionsValidatorTests
{
    [Fact]
    public void Validate_BadKeysAndJwt_ReportsEveryError()
    {
        var validator = new AicpSecurityOptionsValidator(Options.Create(new AicpHubOptions()));
        var result = validator.Validate(null, new AicpSecurityOptions
        {
            ApiKeys =
            [
                new ApiKeyOptions { Name = "a", Sha256 = "not-hex", Roles = ["agent"] },
                new ApiKeyOptions { Name = "a", Sha256 = new string('a', 64), Roles = ["root"], AgentIds = ["GPU*"] },
            ],
            Jwt = new JwtOptions { SigningKey = "short" },
            MaxPayloadBytes = int.MaxValue,
        });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("Sha256"));
        Assert.Contains(failures, f => f.Contains("unique"));
        Assert.Contains(failures, f => f.Contains("Roles"));
        Assert.Contains(failures, f => f.Contains("GPU*"));
        Assert.Contains(failures, f => f.Contains("32 bytes"));
        Assert.Contains(failures, f => f.Contains("Issuer"));
        Assert.Contains(failures, f => f.Contains("MaxPayloadBytes"));
    }

    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new AicpSecurityOptionsValidator(Options.Create(new AicpHubOptions())).Validate(null, new AicpSecurityOptions()).Succeeded);

    [Fact]
    public void Hash_KnownKey_Sha256Hex() =>
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", ApiKeyStore.Hash("hello"));
}
