using Aicp.Hub.Hubs;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Microsoft.AspNetCore.Http.Connections;

namespace Aicp.Hub.Hosting;

/// <summary>Builds the hub application; used by Program and by anything that embeds a hub.</summary>
public static class AicpHubApplication
{
    /// <summary>The address the hub listens on when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c> nor <c>Kestrel:Endpoints</c> says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddAicpHub(builder.Configuration);
        builder.Services.AddAicpSecurity(builder.Configuration);
        builder.Services.AddAicpFrontDoors();
        configure?.Invoke(builder);
        builder.Services.AddAicpOtlpExport(builder.Configuration); // after configure: it reads the final configuration

        var app = builder.Build();
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<ConnectionLimitMiddleware>();
        app.MapHub<AicpHub>(ProtocolDefaults.HubPath, hub =>
        {
            hub.Transports = HttpTransportType.WebSockets; // one long request per connection: what the connection caps count
            hub.CloseOnAuthenticationExpiration = true;
        }).RequireAuthorization(AicpAuthenticationSchemes.ConnectPolicy);
        app.MapAicpFrontDoors();
        app.MapHealthProbes();
        app.MapHubMetrics().RequireAuthorization(AicpAuthenticationSchemes.MetricsPolicy);
        app.MapStatusEndpoints().RequireAuthorization(AicpAuthenticationSchemes.StatusPolicy);
        return app;
    }
}
