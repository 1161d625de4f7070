using Aicp.Hub.Configuration;
using Aicp.Hub.Security;
using Aicp.Tests.Infrastructure;
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

    [Theory]
    [InlineData("http://0.0.0.0:5000", true)]
    [InlineData("http://hub.example.com:5000", true)]
    [InlineData("https://0.0.0.0:5001", false)]
    [InlineData("http://127.0.0.1:5000", false)]
    public void IsPlainHttpOffLoopback_Address_Expected(string address, bool expected) =>
        Assert.Equal(expected, ListenAddressGuard.IsPlainHttpOffLoopback(address));

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

public sealed class SecurityLimitsValidatorTests
{
    [Fact]
    public void Validate_BadLimitsAndKeysFile_ReportsEveryError()
    {
        var validator = new AicpSecurityOptionsValidator(Options.Create(new AicpHubOptions()));
        var result = validator.Validate(null, new AicpSecurityOptions
        {
            ApiKeys = [new ApiKeyOptions { Name = "k", Sha256 = new string('b', 64), Roles = ["metrics"], MaxConnections = 0, RateLimit = new() { TokensPerPeriod = 0 } }],
            KeysFile = "/nonexistent/keys.json",
            MaxConnections = -1,
            MaxConnectionsPerCredential = 0,
            RateLimit = new RateLimitOptions { TokenLimit = 0 },
            MetricsAccess = (MetricsAccess)7,
        });

        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("ApiKeys:0:MaxConnections"));
        Assert.Contains(failures, f => f.Contains("ApiKeys:0:RateLimit"));
        Assert.Contains(failures, f => f.Contains("keep the keys in one place"));
        Assert.Contains(failures, f => f.Contains("KeysFile cannot be read"));
        Assert.Contains(failures, f => f.StartsWith("Aicp:Security:MaxConnections must", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxConnectionsPerCredential"));
        Assert.Contains(failures, f => f.StartsWith("Aicp:Security:RateLimit:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MetricsAccess"));
        Assert.DoesNotContain(failures, f => f.Contains("Roles")); // metrics is a role
    }

    [Fact]
    public void Validate_RateLimitTurnedOff_NotChecked() =>
        Assert.True(new AicpSecurityOptionsValidator(Options.Create(new AicpHubOptions()))
            .Validate(null, new AicpSecurityOptions { RateLimit = new RateLimitOptions { Enabled = false, TokenLimit = 0 } }).Succeeded);

    [Fact]
    public void Defaults_NoRateLimitNoConnectionCapsMetricsNeedACredential()
    {
        var options = new AicpSecurityOptions();
        Assert.Null(options.RateLimit);
        Assert.Null(options.MaxConnections);
        Assert.Null(options.MaxConnectionsPerCredential);
        Assert.Equal(MetricsAccess.Credential, options.MetricsAccess);
    }

    [Fact]
    public void Binding_RateLimitSectionPresent_OnWithItsValues()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aicp:Security:ApiKeys:0:RateLimit:TokensPerPeriod"] = "100", ["Aicp:Security:MetricsAccess"] = "loopback",
        }).Build();
        var options = config.GetSection("Aicp:Security").Get<AicpSecurityOptions>()!;

        var limits = CredentialLimits.Resolve(options.ApiKeys[0].RateLimit, null, new CredentialLimits(null, 5));
        Assert.Equal(100, limits.RateLimit!.TokensPerPeriod);
        Assert.Equal(5, limits.MaxConnections);
        Assert.Equal(MetricsAccess.Loopback, options.MetricsAccess);
        Assert.Null(options.RateLimit);
    }
}

public sealed class ConnectionLimiterTests
{
    [Fact]
    public void TryAcquire_PerCredentialCap_RefusesOverItAndReleaseFreesAPlace()
    {
        var limiter = new ConnectionLimiter(Options.Create(new AicpSecurityOptions()));

        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire("key:a", 2));
        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire("key:a", 2));
        Assert.Equal(ConnectionLimiter.Verdict.CredentialFull, limiter.TryAcquire("key:a", 2));
        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire("key:b", 2));
        Assert.Equal((2, 3), (limiter.OpenFor("key:a"), limiter.Total));

        limiter.Release("key:a");
        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire("key:a", 2));
        limiter.Release("key:a");
        limiter.Release("key:a");
        limiter.Release("key:b");
        Assert.Equal((0, 0), (limiter.OpenFor("key:a"), limiter.Total));
    }

    [Fact]
    public void TryAcquire_GlobalCap_RefusesEveryoneOverIt()
    {
        var limiter = new ConnectionLimiter(Options.Create(new AicpSecurityOptions { MaxConnections = 2 }));

        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire(null, null));
        Assert.Equal(ConnectionLimiter.Verdict.Accepted, limiter.TryAcquire("key:a", null));
        Assert.Equal(ConnectionLimiter.Verdict.HubFull, limiter.TryAcquire("key:b", null));
        Assert.Equal((2, 0), (limiter.Total, limiter.OpenFor("key:b")));
    }

    [Fact]
    public async Task TryAcquire_ConcurrentAcquireAndRelease_CountsBackToZeroAndNeverOverTheCap()
    {
        var limiter = new ConnectionLimiter(Options.Create(new AicpSecurityOptions { MaxConnections = 50 }));
        var holders = 0;
        var mostHolders = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                if (limiter.TryAcquire("key:shared", 3) == ConnectionLimiter.Verdict.Accepted)
                {
                    var now = Interlocked.Increment(ref holders);
                    InterlockedMax(ref mostHolders, now);
                    Interlocked.Decrement(ref holders);
                    limiter.Release("key:shared");
                }
            }
        }))).DefaultTimeout();

        Assert.InRange(mostHolders, 1, 3);
        Assert.Equal((0, 0), (limiter.Total, limiter.OpenFor("key:shared")));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}

public sealed class ApiKeyEntryTests
{
    private static ApiKeyOptions Key(params string[] roles) => new() { Name = "k", Sha256 = new string('c', 64), Roles = [.. roles], AgentIds = ["a-*"] };

    [Fact]
    public void GrantsSameAs_OnlyLimitsDiffer_True()
    {
        var defaults = new CredentialLimits(null, null);
        var before = new ApiKeyEntry(Key("agent", "submitter"), defaults);
        var after = new ApiKeyEntry(new ApiKeyOptions
        {
            Name = "k", Sha256 = new string('C', 64), Roles = ["submitter", "agent"], AgentIds = ["a-*"], MaxConnections = 3,
        }, defaults);

        Assert.True(before.GrantsSameAs(after));
        Assert.Equal(3, after.Limits.MaxConnections);
    }

    [Fact]
    public void ExpiresAt_WithAFraction_WholeSecondsRoundedDown()
    {
        var entry = new ApiKeyEntry(new ApiKeyOptions { Name = "k", Sha256 = new string('c', 64), Roles = ["agent"],
            ExpiresAt = DateTimeOffset.Parse("2027-01-31T10:00:05.9+00:00", System.Globalization.CultureInfo.InvariantCulture) }, new CredentialLimits(null, null));

        Assert.Equal(DateTimeOffset.Parse("2027-01-31T10:00:05+00:00", System.Globalization.CultureInfo.InvariantCulture), entry.ExpiresAt);
    }

    [Theory]
    [InlineData("role")]
    [InlineData("hash")]
    [InlineData("binding")]
    [InlineData("expiry")]
    public void GrantsSameAs_GrantChanged_False(string change)
    {
        var defaults = new CredentialLimits(null, null);
        var options = Key("agent");
        var changed = Key("agent");
        switch (change)
        {
            case "role": changed.Roles = ["submitter"]; break;
            case "hash": changed.Sha256 = new string('d', 64); break;
            case "binding": changed.AgentIds = ["b-*"]; break;
            default: changed.ExpiresAt = DateTimeOffset.UnixEpoch; break;
        }

        Assert.False(new ApiKeyEntry(options, defaults).GrantsSameAs(new ApiKeyEntry(changed, defaults)));
    }
}
