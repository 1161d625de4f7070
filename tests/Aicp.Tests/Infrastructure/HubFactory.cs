extern alias hub;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// The hub's own <c>Program</c> (the Aicp.Hub assembly's; SampleAgents has one too, hence the alias) under Mvc.Testing, with the test's configuration and logging. <see cref="StartOnLoopback"/>
/// runs it on Kestrel at a loopback address (real sockets: what SignalR clients and Prometheus need); without it the
/// factory serves from its in-memory TestServer (<see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/>).
/// </summary>
public sealed class HubFactory(IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null) : WebApplicationFactory<hub::Program>
{
    private string? _url;

    /// <summary>The hub's base URL once <see cref="StartOnLoopback"/> has run.</summary>
    public Uri BaseUrl { get; private set; } = new("http://localhost");

    /// <summary>Starts Kestrel on <paramref name="url"/> (port 0: a free one) and returns the address it took.</summary>
    public HubFactory StartOnLoopback(string url = "http://127.0.0.1:0")
    {
        _url = url;
        UseKestrel();
        StartServer();
        BaseUrl = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (_url is not null)
        {
            builder.UseSetting(WebHostDefaults.ServerUrlsKey, _url);
        }

        // Host settings are visible while Program builds the app, as command-line arguments would be (the hub decides
        // some wiring, such as OTLP export, from configuration at that point).
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
            if (logs is not null)
            {
                logging.AddProvider(logs);
            }
        });
    }
}
