using Aicp.Hub.Configuration;
using Aicp.Hub.FrontDoors;
using Aicp.Hub.Registry;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Aicp.Tests.Hub.RoutingConfiguration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.FrontDoors;

/// <summary>Model names resolved through the routing file's model map, else to a live capability of that name.</summary>
public sealed class ModelCatalogTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];
    private readonly AgentRegistry _registry = new(Options.Create(new AicpHubOptions()), new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56)));
    private readonly ModelCatalog _catalog;

    public ModelCatalogTests()
    {
        var rules = RoutingRulesReaderTests.Read("""
            models:
              gpt-4o-mini: { capability: text.chat, strategy: least-loaded, fallbacks: [text.echo] }
              text.embed: { capability: text.embed.large }
            routers:
              auto:
                field: prompt
                rules: [{ name: code, keywords: [compile], capability: text.code }]
                default: text.chat
            """);
        _catalog = new ModelCatalog(new RoutingRulesStore(rules), _registry);
    }

    [Fact]
    public void TryResolve_MappedModel_ItsRoute()
    {
        Assert.True(_catalog.TryResolve("gpt-4o-mini", out var route));

        Assert.Equal(("text.chat", "least-loaded"), (route.Capability, route.Strategy));
        Assert.Equal(["text.echo"], route.Fallbacks!);
    }

    [Fact]
    public void TryResolve_LiveCapabilityNotInTheMap_ThatCapability()
    {
        _registry.Register("c1", "a1", ["image.label"], 2, NoMetadata);

        Assert.True(_catalog.TryResolve("image.label", out var route));
        Assert.Equal(new ModelRoute("image.label", null, null), route);
    }

    [Theory]
    [InlineData("image.label")] // a capability nobody serves
    [InlineData("gpt-5")]
    [InlineData("Image.Label")]
    [InlineData("")]
    [InlineData(null)]
    public void TryResolve_Unknown_False(string? model) => Assert.False(_catalog.TryResolve(model, out _));

    [Fact]
    public void TryResolve_IntentRouter_TheRouterItself()
    {
        Assert.True(_catalog.TryResolve("auto", out var route));

        Assert.Equal(new ModelRoute("auto", null, null), route); // the dispatcher classifies each request
    }

    [Fact]
    public void TryResolve_MapWinsOverACapabilityOfTheSameName()
    {
        _registry.Register("c1", "a1", ["text.embed"], 2, NoMetadata);

        Assert.True(_catalog.TryResolve("text.embed", out var route));
        Assert.Equal("text.embed.large", route.Capability);
    }

    [Fact]
    public void TryResolve_AgentLeft_CapabilityNoLongerAModel()
    {
        _registry.Register("c1", "a1", ["image.label"], 2, NoMetadata);
        _registry.RemoveConnection("c1");

        Assert.False(_catalog.TryResolve("image.label", out _));
    }

    [Fact]
    public void List_MapByNameThenUnmappedLiveCapabilities()
    {
        _registry.Register("c1", "a1", ["text.chat", "image.label", "text.embed"], 2, NoMetadata);
        _registry.Register("c2", "a2", ["image.label", "audio.transcribe"], 2, NoMetadata);
        _registry.Register("c3", "a3", ["text.code", "auto"], 2, NoMetadata);

        Assert.Equal(
        [
            new ModelInfo("gpt-4o-mini", "text.chat", Mapped: true, Agents: 1),
            new ModelInfo("text.embed", "text.embed.large", Mapped: true, Agents: 0),
            new ModelInfo("auto", "auto", Mapped: false, Agents: 2), // a1 (text.chat) and a3 (text.code)
            new ModelInfo("audio.transcribe", "audio.transcribe", Mapped: false, Agents: 1),
            new ModelInfo("image.label", "image.label", Mapped: false, Agents: 2),
            new ModelInfo("text.chat", "text.chat", Mapped: false, Agents: 1),
            new ModelInfo("text.code", "text.code", Mapped: false, Agents: 1),
        ], _catalog.List());
    }

    [Fact]
    public void Request_CarriesTheRoute()
    {
        var payload = TaskPayload.FromJson(System.Text.Json.JsonDocument.Parse("""{"messages":[]}""").RootElement);
        _catalog.TryResolve("gpt-4o-mini", out var route);

        var request = ModelCatalog.Request(route, payload, timeoutMs: 9000);

        Assert.Equal(("text.chat", "least-loaded", 9000), (request.Method, request.Strategy, request.TimeoutMs));
        Assert.Equal(["text.echo"], request.Fallbacks!);
        Assert.Same(payload, request.Payload);
    }
}
