using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Agent.Sdk.Gpu;

/// <summary>Turning NVML GPU readings on for an agent.</summary>
public static class NvmlGpuTelemetryExtensions
{
    /// <summary>
    /// Reads GPUs through NVML for the agent's registration metadata and load reports, when <c>libnvidia-ml.so.1</c>
    /// loads; otherwise leaves <see cref="AgentOptions.GpuTelemetry"/> as it is (nothing is read, nothing fails).
    /// </summary>
    public static AgentOptions UseNvmlGpuTelemetry(this AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.GpuTelemetry = NvmlGpuTelemetry.TryOpen() ?? options.GpuTelemetry;
        return options;
    }

    /// <summary>The same for an agent added with <c>services.AddAicpAgent(...)</c>.</summary>
    public static IAicpAgentBuilder AddNvmlGpuTelemetry(this IAicpAgentBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<AgentOptions>(builder.AgentId, o => o.UseNvmlGpuTelemetry());
        return builder;
    }
}
