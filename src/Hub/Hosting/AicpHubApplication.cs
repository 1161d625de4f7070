using Aicp.Hub.Dashboard;
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

    /// <summary>The hub program's exit code for an invalid configuration: 78, <c>EX_CONFIG</c> of sysexits.h.</summary>
    public const int ConfigurationErrorExitCode = 78;

    /// <summary>The hub program's exit code when it cannot listen on its address (e.g. the port is taken).</summary>
    public const int ListenErrorExitCode = 1;

    /// <summary>
    /// Runs the hub until it is stopped (Ctrl+C, SIGTERM). An invalid configuration, or an address it cannot listen on,
    /// is one message on <paramref name="error"/> (stderr by default) and an exit code, not a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        try
        {
            await using var app = Build(args);
            await app.RunAsync();
            return 0;
        }
        catch (AicpConfigurationException ex) when (IsTheProgram)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            await error.WriteLineAsync("Settings come from appsettings.json, Aicp__* environment variables and --Aicp:* arguments; README.md lists them.");
            return ConfigurationErrorExitCode;
        }
        catch (IOException ex) when (IsTheProgram && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await error.WriteLineAsync($"error: {ex.Message} Another process (another hub?) listens there; stop it or pass --urls http://127.0.0.1:PORT.");
            return ListenErrorExitCode;
        }
    }

    /// <summary>
    /// Whether this process is the hub's own program. A host that runs the program's entry point itself (a test's
    /// WebApplicationFactory) gets the exceptions instead of an exit code.
    /// </summary>
    private static bool IsTheProgram => System.Reflection.Assembly.GetEntryAssembly() == typeof(AicpHubApplication).Assembly;

    /// <summary>
    /// Builds the hub. Every problem with its configuration is found here at once and thrown as one
    /// <see cref="AicpConfigurationException"/>, before anything is built from the settings.
    /// </summary>
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
        HubConfigurationCheck.ThrowIfInvalid(app.Services, app.Configuration);
        app.UseWebSockets();
        app.UseAicpDashboard(); // a static page, open to all: its data comes through SubscribeStatus (admin)
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
