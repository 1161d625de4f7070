using Aicp.Agent.Sdk.Gpu;

namespace Aicp.Tests.Sdk.Gpu;

public sealed class NvmlGpuTelemetryTests
{
    [Fact]
    public void TryOpen_LibraryAbsent_NullWithoutThrowing()
    {
        Assert.Null(NvmlGpuTelemetry.TryOpen("libnvidia-ml-does-not-exist.so.1"));
    }

    [Fact]
    public void TryOpen_LibraryWithoutNvmlExports_Null()
    {
        // libc loads everywhere but exports no nvmlInit_v2.
        Assert.Null(NvmlGpuTelemetry.TryOpen("libc.so.6"));
    }

    [Fact]
    public void TryOpen_ThisMachine_ReadsOnlyWhenTheDriverIsPresent()
    {
        using var nvml = NvmlGpuTelemetry.TryOpen();
        var driverPresent = File.Exists("/proc/driver/nvidia/version");
        if (nvml is null)
        {
            Assert.False(driverPresent, "the NVIDIA driver is present but NVML did not open");
            return;
        }

        Assert.All(nvml.Read(), g =>
        {
            Assert.False(string.IsNullOrEmpty(g.Name));
            Assert.InRange(g.MemoryUsedBytes, 0, g.MemoryTotalBytes);
            Assert.InRange(g.UtilizationPercent, 0, 100);
        });
    }
}
