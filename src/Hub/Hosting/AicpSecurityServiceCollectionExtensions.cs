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

/// <summary>Wires authentication (API keys, optional JWT), the two policies, the call gate and the start-up address check.</summary>
public static class AicpSecurityServiceCollectionExtensions
{
    public static IServiceCollection AddAicpSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AicpSecurityOptions.SectionName);
        services.AddOptions<AicpSecurityOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AicpSecurityOptions>, AicpSecurityOptionsValidator>());
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<SubmitRateLimiter>();
        services.TryAddSingleton<HubCallGate>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ListenAddressGuard>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, StatusAccessHandler>());

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
            };
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(AicpAuthenticationSchemes.ConnectPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .RequireAuthenticatedUser())
            .AddPolicy(AicpAuthenticationSchemes.StatusPolicy, p => p
                .AddAuthenticationSchemes(AicpAuthenticationSchemes.Default)
                .AddRequirements(new StatusAccessRequirement()));
        return services;
    }
}
