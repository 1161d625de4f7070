using Aicp.Bench.Infrastructure;
using Aicp.Hub.Hosting;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Roles;

/// <summary><c>hub-proc</c>: the real hub, logging off, on a free loopback port; prints "ready URL", runs until stdin closes.</summary>
internal static class HubRole
{
    public const string Name = "hub-proc";

    public static async Task<int> RunAsync()
    {
        var link = ParentLink.Listen();
        await using var hub = await EmbeddedHub.StartAsync(configure: builder => builder.Logging.ClearProviders());
        ParentLink.Send($"ready {hub.BaseUrl}");
        await link.Stop;
        return 0;
    }
}
