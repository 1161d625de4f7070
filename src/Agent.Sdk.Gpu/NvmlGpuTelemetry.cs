using System.Runtime.InteropServices;
using System.Text;
using Aicp.Agent.Sdk.Telemetry;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Gpu;

/// <summary>
/// Reads GPU name, memory and utilization through the NVIDIA management library (libnvidia-ml.so.1),
/// loaded at run time. Where the library does not load (no NVIDIA driver) <see cref="TryOpen"/> returns
/// null and nothing else happens. Calls are serialized by one lock.
/// </summary>
public sealed unsafe class NvmlGpuTelemetry : IGpuTelemetrySource, IDisposable
{
    private const int Success = 0;
    private const int NameLength = 96;

    private readonly object _gate = new();
    private readonly nint _library;
    private readonly delegate* unmanaged<uint*, int> _getCount;
    private readonly delegate* unmanaged<uint, nint*, int> _getHandle;
    private readonly delegate* unmanaged<nint, byte*, uint, int> _getName;
    private readonly delegate* unmanaged<nint, MemoryInfo*, int> _getMemory;
    private readonly delegate* unmanaged<nint, Utilization*, int> _getUtilization;
    private readonly delegate* unmanaged<nint, int, uint*, int> _getTemperature;
    private readonly delegate* unmanaged<int> _shutdown;
    private bool _disposed;

    private NvmlGpuTelemetry(nint library)
    {
        _library = library;
        _getCount = (delegate* unmanaged<uint*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetCount_v2");
        _getHandle = (delegate* unmanaged<uint, nint*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetHandleByIndex_v2");
        _getName = (delegate* unmanaged<nint, byte*, uint, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetName");
        _getMemory = (delegate* unmanaged<nint, MemoryInfo*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetMemoryInfo");
        _getUtilization = (delegate* unmanaged<nint, Utilization*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetUtilizationRates");
        _getTemperature = (delegate* unmanaged<nint, int, uint*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetTemperature");
        _shutdown = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "nvmlShutdown");
    }

    /// <summary>Opens NVML, or returns null when the library or a GPU is not there. Never throws.</summary>
    public static NvmlGpuTelemetry? TryOpen(string libraryName = "libnvidia-ml.so.1")
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
        {
            return null;
        }

        try
        {
            var init = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "nvmlInit_v2");
            if (init() != Success)
            {
                NativeLibrary.Free(library);
                return null;
            }

            return new NvmlGpuTelemetry(library);
        }
        catch (EntryPointNotFoundException)
        {
            NativeLibrary.Free(library);
            return null;
        }
    }

    /// <summary>One reading per GPU; an empty list if a call fails.</summary>
    public IReadOnlyList<GpuTelemetry> Read()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            uint count;
            if (_getCount(&count) != Success)
            {
                return [];
            }

            var readings = new List<GpuTelemetry>((int)count);
            // One name buffer for all devices: NVML overwrites it on each call.
            var name = stackalloc byte[NameLength];
            for (uint i = 0; i < count; i++)
            {
                nint device;
                if (_getHandle(i, &device) != Success)
                {
                    continue;
                }

                var nameText = _getName(device, name, NameLength) == Success
                    ? Encoding.UTF8.GetString(name, new ReadOnlySpan<byte>(name, NameLength).IndexOf((byte)0) is var end and >= 0 ? end : NameLength)
                    : "unknown";
                MemoryInfo memory;
                var hasMemory = _getMemory(device, &memory) == Success;
                Utilization utilization;
                var hasUtilization = _getUtilization(device, &utilization) == Success;
                uint temperature;
                var hasTemperature = _getTemperature(device, 0, &temperature) == Success;
                readings.Add(new GpuTelemetry
                {
                    Index = (int)i,
                    Name = nameText,
                    MemoryUsedBytes = hasMemory ? (long)memory.Used : 0,
                    MemoryTotalBytes = hasMemory ? (long)memory.Total : 0,
                    UtilizationPercent = hasUtilization ? (int)utilization.Gpu : 0,
                    TemperatureC = hasTemperature ? (int)temperature : null,
                });
            }

            return readings;
        }
    }

    /// <summary>Shuts NVML down and frees the library.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _shutdown();
            NativeLibrary.Free(_library);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Utilization
    {
        public uint Gpu;
        public uint Memory;
    }
}
