using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;

namespace Aicp.Hub.Dashboard;

/// <summary>
/// Wires the live status feed and serves the dashboard page at <c>/dashboard/</c>: static files from
/// <c>wwwroot/dashboard</c> beside the hub's assembly (copied there by the build, so an embedded hub serves them too).
/// The page holds no data; it reads everything through <c>SubscribeStatus</c>, which needs the admin role when
/// credentials are configured. The browser libraries under <c>lib/</c> come from npm at setup time
/// (scripts/setup-npm.sh); without them the page says what is missing.
/// </summary>
internal static class DashboardEndpoints
{
    public const string Path = "/dashboard";

    // Scripts and styles only from the hub itself, no inline script; the hub connection to the same host.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>The folder the page is served from.</summary>
    public static string Root => System.IO.Path.Combine(AppContext.BaseDirectory, "wwwroot", "dashboard");

    public static IServiceCollection AddAicpDashboard(this IServiceCollection services)
    {
        services.TryAddSingleton<TaskLatencyRecorder>();
        services.TryAddSingleton<CapabilityTrends>();
        services.TryAddSingleton<StatusFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<StatusFeed>());
        return services;
    }

    /// <summary>Serves <c>/dashboard/</c> (and redirects <c>/dashboard</c> to it).</summary>
    public static IApplicationBuilder UseAicpDashboard(this IApplicationBuilder app)
    {
        if (!Directory.Exists(Root))
        {
            return app; // a host built without the page: /dashboard is a 404
        }

        var files = new PhysicalFileProvider(Root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        return app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
            },
        });
    }
}
