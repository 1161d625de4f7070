using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Aicp.Hub.Hosting;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// Refuses to start an open hub (no credentials) on anything but loopback unless <c>AllowAnonymous</c> is
/// set. Checks the configured addresses before the server binds, and the bound addresses once it has
/// (addresses set in code, e.g. <c>ListenAnyIP</c>, are only visible then). With credentials configured, warns
/// once when a plain <c>http://</c> address is not loopback: keys would cross the network in clear text unless a
/// TLS-terminating proxy sits in front.
/// </summary>
internal sealed class ListenAddressGuard(IOptions<AicpSecurityOptions> options, IConfiguration configuration, IServer server,
    ILogger<ListenAddressGuard> logger) : IHostedLifecycleService
{
    private bool _warned;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Check(ConfiguredAddresses(configuration));
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Check(bound);
        if (options.Value.HasCredentials && bound.Where(IsPlainHttpOffLoopback).ToList() is { Count: > 0 } plain)
        {
            SecurityLog.PlainHttp(logger, string.Join(", ", plain));
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether an address (URL or <c>host:port</c>) listens on loopback only.</summary>
    internal static bool IsLoopback(string address)
    {
        string host;
        try
        {
            var binding = BindingAddress.Parse(address);
            if (binding.IsUnixPipe || binding.IsNamedPipe)
            {
                return true; // reachable only from this machine
            }

            host = binding.Host;
        }
        catch (FormatException)
        {
            return false;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    internal static bool IsPlainHttpOffLoopback(string address) =>
        address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !IsLoopback(address);

    internal static IEnumerable<string> ConfiguredAddresses(IConfiguration configuration)
    {
        foreach (var url in Split(configuration[WebHostDefaults.ServerUrlsKey]))
        {
            yield return url;
        }

        // HTTP_PORTS / HTTPS_PORTS (the container default) bind every interface.
        foreach (var key in new[] { WebHostDefaults.HttpPortsKey, WebHostDefaults.HttpsPortsKey })
        {
            foreach (var port in Split(configuration[key]))
            {
                yield return $"http://*:{port}";
            }
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    /// <summary>Why the hub must not start on <paramref name="addresses"/> with these settings; null when it may.</summary>
    internal static string? Refusal(IEnumerable<string> addresses, AicpSecurityOptions security)
    {
        if (security.HasCredentials || security.AllowAnonymous)
        {
            return null;
        }

        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        return exposed.Count == 0
            ? null
            : $"Refusing to start: the hub would listen on {string.Join(", ", exposed)} with no API keys or JWT key configured. " +
              "Configure Aicp:Security:ApiKeys or Aicp:Security:Jwt, bind to 127.0.0.1, or set Aicp:Security:AllowAnonymous=true to run open on purpose.";
    }

    private void Check(IEnumerable<string> addresses)
    {
        var security = options.Value;
        var list = addresses.ToList();
        if (Refusal(list, security) is { } refusal)
        {
            throw new AicpConfigurationException([refusal]);
        }

        if (security.HasCredentials || _warned || list.Where(a => !IsLoopback(a)).ToList() is not { Count: > 0 } exposed)
        {
            return;
        }

        _warned = true;
        SecurityLog.OpenMode(logger, $"Aicp:Security:AllowAnonymous=true on {string.Join(", ", exposed)}");
    }

    private static string[] Split(string? value) =>
        value?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
