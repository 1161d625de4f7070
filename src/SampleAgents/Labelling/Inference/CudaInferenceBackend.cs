using System.Runtime.InteropServices;
using System.Text;
using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.SampleAgents.Labelling.Inference;

/// <summary>
/// Forward pass on an NVIDIA GPU through the CUDA driver API (libcuda.so.1), with the kernels compiled at
/// run time by NVRTC; both libraries are loaded dynamically, so the program runs unchanged where they are
/// absent. Weights live on the device; each call copies the batch in and the probabilities out. Calls are
/// serialized by one lock (one context, one set of device buffers); a batch is the unit of parallelism.
/// </summary>
internal sealed unsafe class CudaInferenceBackend : IInferenceBackend
{
    public const string BackendName = "cuda";

    private const string KernelSource = """
        extern "C" __global__ void dense(const float* x, const float* w, const float* b, float* y,
                                         int batch, int in, int out, int relu)
        {
            int j = blockIdx.x * blockDim.x + threadIdx.x;
            int n = blockIdx.y;
            if (j >= out || n >= batch) return;
            const float* xr = x + (size_t)n * in;
            const float* wr = w + (size_t)j * in;
            float acc = b[j];
            for (int i = 0; i < in; ++i) acc = fmaf(xr[i], wr[i], acc);
            y[(size_t)n * out + j] = relu ? fmaxf(acc, 0.0f) : acc;
        }

        extern "C" __global__ void softmax(float* y, int batch, int out)
        {
            int n = blockIdx.x * blockDim.x + threadIdx.x;
            if (n >= batch) return;
            float* r = y + (size_t)n * out;
            float m = r[0];
            for (int i = 1; i < out; ++i) m = fmaxf(m, r[i]);
            float s = 0.0f;
            for (int i = 0; i < out; ++i) { r[i] = expf(r[i] - m); s += r[i]; }
            for (int i = 0; i < out; ++i) r[i] /= s;
        }
        """;

    private static readonly string[] NvrtcNames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];

    private readonly object _gate = new();
    private readonly MlpModel _model;
    private readonly Driver _cu;
    private readonly nint _context;
    private readonly nint _module;
    private readonly nint _dense;
    private readonly nint _softmax;
    private readonly ulong[] _weights;
    private readonly ulong[] _biases;
    private ulong _bufferA;
    private ulong _bufferB;
    private int _capacity;
    private bool _disposed;

    private CudaInferenceBackend(MlpModel model, Driver cu, nint context, nint module, string deviceName)
    {
        _model = model;
        _cu = cu;
        _context = context;
        _module = module;
        DeviceName = deviceName;
        fixed (nint* f = &_dense)
        {
            Check(cu.ModuleGetFunction(f, module, "dense"u8), "cuModuleGetFunction(dense)");
        }

        fixed (nint* f = &_softmax)
        {
            Check(cu.ModuleGetFunction(f, module, "softmax"u8), "cuModuleGetFunction(softmax)");
        }

        _weights = new ulong[model.LayerCount];
        _biases = new ulong[model.LayerCount];
        for (var l = 0; l < model.LayerCount; l++)
        {
            _weights[l] = Upload(model.Weights[l]);
            _biases[l] = Upload(model.Biases[l]);
        }
    }

    public string Name => BackendName;

    /// <summary>The GPU's name as the driver reports it.</summary>
    public string DeviceName { get; }

    /// <summary>Creates the backend on GPU 0, or returns null with the reason when CUDA or NVRTC is not usable here.</summary>
    public static CudaInferenceBackend? TryCreate(MlpModel model, out string reason)
    {
        if (!NativeLibrary.TryLoad("libcuda.so.1", out var cudaLib))
        {
            reason = "libcuda.so.1 (the NVIDIA driver) did not load";
            return null;
        }

        nint nvrtcLib = 0;
        foreach (var name in NvrtcNames)
        {
            if (NativeLibrary.TryLoad(name, out nvrtcLib))
            {
                break;
            }
        }

        if (nvrtcLib == 0)
        {
            reason = "NVRTC (libnvrtc.so) did not load";
            return null;
        }

        try
        {
            var cu = new Driver(cudaLib);
            var status = cu.Init(0);
            if (status != 0)
            {
                reason = $"cuInit failed with CUDA error {status}";
                return null;
            }

            int device;
            Check(cu.DeviceGet(&device, 0), "cuDeviceGet");
            var nameBytes = stackalloc byte[128];
            Check(cu.DeviceGetName(nameBytes, 128, device), "cuDeviceGetName");
            var deviceName = Marshal.PtrToStringUTF8((nint)nameBytes) ?? "gpu";
            nint context;
            Check(cu.CtxCreate(&context, 0, device), "cuCtxCreate");
            var ptx = Compile(nvrtcLib);
            nint module;
            fixed (byte* image = ptx)
            {
                Check(cu.ModuleLoadData(&module, image), "cuModuleLoadData");
            }

            reason = "";
            return new CudaInferenceBackend(model, cu, context, module, deviceName);
        }
        catch (Exception ex) when (ex is CudaException or EntryPointNotFoundException)
        {
            reason = ex.Message;
            return null;
        }
    }

    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> probabilities)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (input.Length < batch * _model.InputSize || probabilities.Length < batch * _model.OutputSize)
        {
            throw new ArgumentException("Input or output span is too small for the batch.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Check(_cu.CtxSetCurrent(_context), "cuCtxSetCurrent");
            EnsureCapacity(batch);
            fixed (float* src = input)
            {
                Check(_cu.MemcpyHtoD(_bufferA, src, (nuint)(batch * _model.InputSize * sizeof(float))), "cuMemcpyHtoD");
            }

            var x = _bufferA;
            var y = _bufferB;
            ulong w = 0, b = 0;
            int inSize = 0, outSize = 0, relu = 0;
            // One argument block for every layer: it points at the locals above, which each iteration updates;
            // cuLaunchKernel copies the argument values at launch.
            var args = stackalloc void*[] { &x, &w, &b, &y, &batch, &inSize, &outSize, &relu };
            for (var l = 0; l < _model.LayerCount; l++)
            {
                (inSize, outSize, relu) = (_model.Dims[l], _model.Dims[l + 1], l < _model.LayerCount - 1 ? 1 : 0);
                w = _weights[l];
                b = _biases[l];
                Check(_cu.LaunchKernel(_dense, (uint)((outSize + 127) / 128), (uint)batch, 1, 128, 1, 1, 0, 0, args, null), "cuLaunchKernel(dense)");
                (x, y) = (y, x);
            }

            var classes = _model.OutputSize;
            var softmaxArgs = stackalloc void*[] { &x, &batch, &classes };
            Check(_cu.LaunchKernel(_softmax, (uint)((batch + 127) / 128), 1, 1, 128, 1, 1, 0, 0, softmaxArgs, null), "cuLaunchKernel(softmax)");
            Check(_cu.CtxSynchronize(), "cuCtxSynchronize");
            fixed (float* dst = probabilities)
            {
                Check(_cu.MemcpyDtoH(dst, x, (nuint)(batch * classes * sizeof(float))), "cuMemcpyDtoH");
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _cu.CtxSetCurrent(_context);
            foreach (var p in _weights.Concat(_biases).Append(_bufferA).Append(_bufferB).Where(p => p != 0))
            {
                _cu.MemFree(p);
            }

            _cu.ModuleUnload(_module);
            _cu.CtxDestroy(_context);
        }
    }

    private void EnsureCapacity(int batch)
    {
        if (batch <= _capacity)
        {
            return;
        }

        var capacity = Math.Max(batch, Math.Max(64, _capacity * 2));
        if (_bufferA != 0)
        {
            _cu.MemFree(_bufferA);
            _cu.MemFree(_bufferB);
        }

        var bytes = (nuint)((long)capacity * _model.MaxWidth * sizeof(float));
        ulong a, b;
        Check(_cu.MemAlloc(&a, bytes), "cuMemAlloc");
        Check(_cu.MemAlloc(&b, bytes), "cuMemAlloc");
        (_bufferA, _bufferB, _capacity) = (a, b, capacity);
    }

    private ulong Upload(float[] values)
    {
        ulong pointer;
        var bytes = (nuint)(values.Length * sizeof(float));
        Check(_cu.MemAlloc(&pointer, bytes), "cuMemAlloc");
        fixed (float* src = values)
        {
            Check(_cu.MemcpyHtoD(pointer, src, bytes), "cuMemcpyHtoD");
        }

        return pointer;
    }

    private static byte[] Compile(nint nvrtcLib)
    {
        var create = (delegate* unmanaged<nint*, byte*, byte*, int, nint, nint, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcCreateProgram");
        var compile = (delegate* unmanaged<nint, int, byte**, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcCompileProgram");
        var ptxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcGetPTXSize");
        var getPtx = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcGetPTX");
        var logSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcGetProgramLogSize");
        var getLog = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcGetProgramLog");
        var destroy = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(nvrtcLib, "nvrtcDestroyProgram");

        var source = Encoding.UTF8.GetBytes(KernelSource + "\0");
        var name = "mlp.cu\0"u8.ToArray();
        nint program;
        fixed (byte* s = source, n = name)
        {
            if (create(&program, s, n, 0, 0, 0) != 0)
            {
                throw new CudaException("nvrtcCreateProgram failed");
            }
        }

        try
        {
            var option = "--use_fast_math\0"u8.ToArray();
            int status;
            fixed (byte* o = option)
            {
                var options = stackalloc byte*[] { o };
                status = compile(program, 1, options);
            }

            if (status != 0)
            {
                nuint size;
                logSize(program, &size);
                var log = new byte[(int)size];
                fixed (byte* l = log)
                {
                    getLog(program, l);
                }

                throw new CudaException($"NVRTC could not compile the kernels: {Encoding.UTF8.GetString(log).TrimEnd('\0')}");
            }

            nuint ptxLength;
            ptxSize(program, &ptxLength);
            var ptx = new byte[(int)ptxLength];
            fixed (byte* p = ptx)
            {
                getPtx(program, p);
            }

            return ptx;
        }
        finally
        {
            destroy(&program);
        }
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException($"{call} failed with CUDA error {status}");
        }
    }

    /// <summary>The driver API entry points used here, resolved from libcuda.so.1.</summary>
    private sealed class Driver(nint lib)
    {
        public readonly delegate* unmanaged<uint, int> Init = (delegate* unmanaged<uint, int>)NativeLibrary.GetExport(lib, "cuInit");
        public readonly delegate* unmanaged<int*, int, int> DeviceGet = (delegate* unmanaged<int*, int, int>)NativeLibrary.GetExport(lib, "cuDeviceGet");
        public readonly delegate* unmanaged<byte*, int, int, int> DeviceGetName = (delegate* unmanaged<byte*, int, int, int>)NativeLibrary.GetExport(lib, "cuDeviceGetName");
        public readonly delegate* unmanaged<nint*, uint, int, int> CtxCreate = (delegate* unmanaged<nint*, uint, int, int>)NativeLibrary.GetExport(lib, "cuCtxCreate_v2");
        public readonly delegate* unmanaged<nint, int> CtxSetCurrent = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuCtxSetCurrent");
        public readonly delegate* unmanaged<int> CtxSynchronize = (delegate* unmanaged<int>)NativeLibrary.GetExport(lib, "cuCtxSynchronize");
        public readonly delegate* unmanaged<nint, int> CtxDestroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuCtxDestroy_v2");
        public readonly delegate* unmanaged<nint*, byte*, int> ModuleLoadData = (delegate* unmanaged<nint*, byte*, int>)NativeLibrary.GetExport(lib, "cuModuleLoadData");
        public readonly delegate* unmanaged<nint, int> ModuleUnloadFn = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "cuModuleUnload");
        public readonly delegate* unmanaged<nint*, nint, byte*, int> ModuleGetFunctionFn = (delegate* unmanaged<nint*, nint, byte*, int>)NativeLibrary.GetExport(lib, "cuModuleGetFunction");
        public readonly delegate* unmanaged<ulong*, nuint, int> MemAllocFn = (delegate* unmanaged<ulong*, nuint, int>)NativeLibrary.GetExport(lib, "cuMemAlloc_v2");
        public readonly delegate* unmanaged<ulong, int> MemFreeFn = (delegate* unmanaged<ulong, int>)NativeLibrary.GetExport(lib, "cuMemFree_v2");
        public readonly delegate* unmanaged<ulong, void*, nuint, int> MemcpyHtoDFn = (delegate* unmanaged<ulong, void*, nuint, int>)NativeLibrary.GetExport(lib, "cuMemcpyHtoD_v2");
        public readonly delegate* unmanaged<void*, ulong, nuint, int> MemcpyDtoHFn = (delegate* unmanaged<void*, ulong, nuint, int>)NativeLibrary.GetExport(lib, "cuMemcpyDtoH_v2");
        public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> LaunchKernelFn =
            (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)NativeLibrary.GetExport(lib, "cuLaunchKernel");

        public int ModuleUnload(nint module) => ModuleUnloadFn(module);

        public int ModuleGetFunction(nint* function, nint module, ReadOnlySpan<byte> name)
        {
            var z = stackalloc byte[name.Length + 1];
            name.CopyTo(new Span<byte>(z, name.Length));
            z[name.Length] = 0;
            return ModuleGetFunctionFn(function, module, z);
        }

        public int MemAlloc(ulong* pointer, nuint bytes) => MemAllocFn(pointer, bytes);

        public int MemFree(ulong pointer) => MemFreeFn(pointer);

        public int MemcpyHtoD(ulong dst, void* src, nuint bytes) => MemcpyHtoDFn(dst, src, bytes);

        public int MemcpyDtoH(void* dst, ulong src, nuint bytes) => MemcpyDtoHFn(dst, src, bytes);

        public int LaunchKernel(nint f, uint gx, uint gy, uint gz, uint bx, uint by, uint bz, uint shared, nint stream, void** args, void** extra) =>
            LaunchKernelFn(f, gx, gy, gz, bx, by, bz, shared, stream, args, extra);
    }
}

/// <summary>A CUDA driver or NVRTC call failed.</summary>
internal sealed class CudaException(string message) : Exception(message);
