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

        // Read once here to decide which schemes exist; the options themselves are validated at start-up.
        var jwt = section.GetSection(nameof(AicpSecurityOptions.Jwt)).Get<JwtOptions>() ?? new JwtOptions();
        var authentication = services.AddAuthentication(AicpAuthenticationSchemes.Default)
            .AddPolicyScheme(AicpAuthenticationSchemes.Default, "API key or JWT", o => o.ForwardDefaultSelector = context =>
                jwt.IsConfigured && BearerToken.Read(context.Request) is { } token && BearerToken.LooksLikeJwt(token)
                    ? AicpAuthenticationSchemes.JwtBearer
                    : AicpAuthenticationSchemes.ApiKey)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AicpAuthenticationSchemes.ApiKey, null);
        if (jwt.IsConfigured)
        {
            authentication.AddJwtBearer(AicpAuthenticationSchemes.JwtBearer, o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey!)),
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
        }

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
