using System.Text;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Aicp.Hub.Hosting;

/// <summary>
/// Wires authentication (API keys, optional JWT), the three policies (connect, status, metrics), the call gate, the
/// connection caps, key revocation and the start-up address check.
/// </summary>
public static class AicpSecurityServiceCollectionExtensions
{
    public static IServiceCollection AddAicpSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AicpSecurityOptions.SectionName);
        services.AddOptions<AicpSecurityOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AicpSecurityOptions>, AicpSecurityOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecurityEvents>();
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<SubmitRateLimiter>();
        services.TryAddSingleton<ConnectionLimiter>();
        services.TryAddSingleton<HubCallGate>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ListenAddressGuard>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KeyRevocation>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, StatusAccessHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, MetricsAccessHandler>());

        // Which scheme handles a token is decided per request from the bound options: configuration
        // sources may still be added after this call (EmbeddedHub, tests), so nothing is read here.
        services.AddAuthentication(AicpAuthenticationSchemes.Default)
            .AddPolicyScheme(AicpAuthenticationSchemes.Default, "API key or JWT", o => o.ForwardDefaultSelector = context =>
                context.RequestServices.GetRequiredService<IOptions<AicpSecurityOptions>>().Value.Jwt.IsConfigured
                && BearerToken.Read(context.Request) is { } token && BearerToken.LooksLikeJwt(token)
                    ? AicpAuthenticationSchemes.JwtBearer
                    : AicpAuthenticationSchemes.ApiKey)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AicpAuthenticationSchemes.ApiKey, null)
            .AddJwtBearer(AicpAuthenticationSchemes.JwtBearer, _ => { }); // configured below from the security options
        services.AddOptions<JwtBearerOptions>(AicpAuthenticationSchemes.JwtBearer).Configure<IOptions<AicpSecurityOptions>>((o, security) =>
        {
            var jwt = security.Value.Jwt;
            o.MapInboundClaims = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                // Without a configured key no token validates (and the selector never forwards here).
                IssuerSigningKey = jwt.IsConfigured ? new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey!)) : null,
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                ValidateIssuerSigningKey = true,
                RoleClaimType = AicpClaimTypes.Role,
                NameClaimType = AicpClaimTypes.Name,
                ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
            };
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    context.Token ??= BearerToken.Read(context.Request);
                    return Task.CompletedTask;
                },

                // The ticket expires when the token stops being accepted (exp + skew); SignalR closes the connection then.
                OnTokenValidated = context =>
                {
                    context.Properties.ExpiresUtc += TimeSpan.FromSeconds(jwt.ClockSkewSeconds);
                    return Task.CompletedTask;
                },
                OnChallenge = context =>
                {
                    context.HttpContext.RequestServices.GetRequiredService<SecurityEvents>().AuthenticationFailed(
                        ApiKeyAuthenticationHandler.RequestName(context.Request), ApiKeyAuthenticationHandler.RemoteAddress(context.HttpContext),
                        context.AuthenticateFailure?.Message ?? context.ErrorDescription ?? "invalid JWT");
                    context.HandleResponse(); // the same answer as for an API key, without the validator's details
                    return AccessRefusal.WriteUnauthorizedAsync(context.HttpContext);
                },
                OnForbidden = context =>
                {
                    context.HttpContext.RequestServices.GetRequiredService<SecurityEvents>().RoleRefused(
                        ApiKeyAuthenticationHandler.RequestName(context.Request), context.HttpContext.User.FindFirst(AicpClaimTypes.Name)?.Value ?? "anonymous",
                        ApiKeyAuthenticationHandler.RemoteAddress(context.HttpContext), "the role this route needs is missing");
                    return AccessRefusal.WriteForbiddenAsync(context.HttpContext);
                },
            };
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(AicpAuthenticationSchemes.ConnectPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .RequireAuthenticatedUser()
                .RequireRole(AicpRoles.Connect))
            .AddPolicy(AicpAuthenticationSchemes.CallerPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .RequireAuthenticatedUser())
            .AddPolicy(AicpAuthenticationSchemes.StatusPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .AddRequirements(new StatusAccessRequirement()))
            .AddPolicy(AicpAuthenticationSchemes.MetricsPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .AddRequirements(new MetricsAccessRequirement()));
        return services;
    }
}
