using Aicp.Hub.Cluster;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dashboard;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hubs;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Hub.RoutingConfiguration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Hosting;

/// <summary>Wires the hub's services: options, registry, strategies, dispatcher and SignalR.</summary>
public static class AicpHubServiceCollectionExtensions
{
    public static IServiceCollection AddAicpHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AicpHubOptions>().Bind(configuration.GetSection(AicpHubOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AicpHubOptions>, AicpHubOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomSource>(sp => new DefaultRandomSource(sp.GetRequiredService<IOptions<AicpHubOptions>>().Value.RandomSeed));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, RoundRobinStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, LeastLoadedStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, PowerOfTwoChoicesStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, TrustWeightedStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, PerformanceBasedStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, RandomStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, WeightedStrategy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRoutingStrategy, AdaptiveStrategy>());
        services.TryAddSingleton<RoutingStrategyCatalog>();
        services.TryAddSingleton<RoutingRulesStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RoutingRulesStore>(sp => sp.GetRequiredService<RoutingRulesStore>()));

        services.TryAddSingleton<AgentRegistry>();
        services.TryAddSingleton<IAgentChannel, SignalRAgentChannel>();
        services.TryAddSingleton<TaskDispatcher>();
        services.TryAddSingleton<ClusterMembership>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterMembership>(sp => sp.GetRequiredService<ClusterMembership>()));
        services.TryAddSingleton<IClusterPeers>(sp => sp.GetRequiredService<ClusterMembership>());
        services.TryAddSingleton<RemoteAgents>();
        services.TryAddSingleton<PeerExecutor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PeerExecutor>(sp => sp.GetRequiredService<PeerExecutor>()));
        services.AddAicpObservability(configuration);
        services.AddAicpDashboard();

        // Registered before AddSignalR, whose open-generic defaults then do not apply to this hub.
        services.TryAddSingleton<Microsoft.AspNetCore.SignalR.HubLifetimeManager<AicpHub>, AicpHubLifetimeManager>();
        services.TryAddSingleton<Microsoft.AspNetCore.SignalR.IHubActivator<AicpHub>, AicpHubActivator>();
        services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)
            .AddMessagePackProtocol(); // the contracts carry their MessagePack keys and payload formatter (Aicp.Protocol)
        // The HTTP status API writes the same records as the status hub methods, and leaves out null fields as they do.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);
        services.AddOptions<Microsoft.AspNetCore.SignalR.HubOptions>().Configure<IOptions<AicpHubOptions>>((hub, aicp) =>
        {
            hub.MaximumParallelInvocationsPerClient = aicp.Value.MaxParallelInvocationsPerConnection;
            hub.MaximumReceiveMessageSize = aicp.Value.MaxMessageBytes;
        });
        return services;
    }
}
