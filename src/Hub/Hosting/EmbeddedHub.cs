using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Aicp.Hub.Hosting;

/// <summary>A hub running inside another process (the demo, tests) on a free loopback port.</summary>
public sealed class EmbeddedHub : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedHub(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The hub's base URL, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Names of the routing strategies this hub knows.</summary>
    public IReadOnlyList<string> StrategyNames => Services.GetRequiredService<Routing.RoutingStrategyCatalog>().Names;

    /// <summary>The strategy used when a task names none.</summary>
    public string DefaultStrategy => Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Configuration.AicpHubOptions>>().Value.DefaultStrategy;

    /// <summary>Starts a hub on 127.0.0.1 with an OS-assigned port.</summary>
    /// <param name="settings">Configuration keys, e.g. <c>Aicp:DefaultStrategy</c>.</param>
    /// <param name="configure">Extra wiring, e.g. test doubles or logging.</param>
    public static async Task<EmbeddedHub> StartAsync(IDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configure = null, string url = "http://127.0.0.1:0")
    {
        var app = AicpHubApplication.Build([$"--urls={url}"], builder =>
        {
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmbeddedHub(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(5));
        await _app.DisposeAsync();
    }
}
