using Aicp.Hub.FrontDoors;
using Aicp.Hub.FrontDoors.Http;
using Aicp.Hub.FrontDoors.OpenAi;
using Aicp.Hub.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Aicp.Hub.Hosting;

/// <summary>Wires the HTTP front doors: tasks over HTTP, the OpenAI-compatible API, and the authorization result handler that writes their refusals.</summary>
public static class AicpFrontDoorServiceCollectionExtensions
{
    public static IServiceCollection AddAicpFrontDoors(this IServiceCollection services)
    {
        services.TryAddSingleton<FrontDoorTasks>();
        services.TryAddSingleton<ModelCatalog>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, FrontDoorAuthorizationResultHandler>();
        return services;
    }

    /// <summary>Maps every HTTP front door behind its policy.</summary>
    public static IEndpointRouteBuilder MapAicpFrontDoors(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapTaskEndpoints().RequireAuthorization(AicpAuthenticationSchemes.CallerPolicy);
        endpoints.MapOpenAiEndpoints().RequireAuthorization(AicpAuthenticationSchemes.CallerPolicy);
        return endpoints;
    }
}
