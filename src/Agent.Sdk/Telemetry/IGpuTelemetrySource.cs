using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Telemetry;

/// <summary>
/// Where an agent reads its GPUs from, for its registration metadata and load reports. The SDK ships none itself;
/// the <c>Aicp.Agent.Sdk.Gpu</c> package reads NVIDIA GPUs through NVML (<c>NvmlGpuTelemetry</c>).
/// </summary>
public interface IGpuTelemetrySource
{
    /// <summary>The GPUs as they are now; empty when there are none. Called from any thread; must not throw.</summary>
    IReadOnlyList<GpuTelemetry> Read();
}
