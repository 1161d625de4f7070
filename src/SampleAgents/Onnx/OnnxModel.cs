using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Aicp.SampleAgents.Onnx;

/// <summary>
/// An ONNX model loaded into ONNX Runtime, with float32 tensor inputs and outputs (checked when it loads).
/// The execution provider is chosen once, at load: <see cref="InferenceDevices"/>. <see cref="Run"/> is thread-safe
/// (ONNX Runtime sessions accept concurrent runs).
/// </summary>
public sealed partial class OnnxModel : IDisposable
{
    /// <summary>What ONNX Runtime calls the CUDA execution provider in <see cref="OrtEnv.GetAvailableProviders"/>.</summary>
    private const string CudaProviderName = "CUDAExecutionProvider";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private long _runs;

    private OnnxModel(string path, InferenceSession session, string provider, string deviceNote)
    {
        Path = path;
        _session = session;
        Provider = provider;
        DeviceNote = deviceNote;
        Inputs = Specs(session.InputMetadata, "input", path);
        Outputs = Specs(session.OutputMetadata, "output", path);
        Metadata = session.ModelMetadata.CustomMetadataMap;
        BatchesAlongFirstDimension = Inputs.Concat(Outputs).All(s => s.Dimensions.Length > 0 && s.Dimensions[0] < 0);
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The model file's name, e.g. <c>digits.onnx</c>.</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The execution provider in use: <see cref="InferenceDevices.Cpu"/> or <see cref="InferenceDevices.Cuda"/>.</summary>
    public string Provider { get; }

    /// <summary>Why that provider: what was asked for and, when CUDA was wanted but did not load, the reason.</summary>
    public string DeviceNote { get; }

    /// <summary>The model's inputs, in the model's order.</summary>
    public IReadOnlyList<TensorSpec> Inputs { get; }

    /// <summary>The model's outputs, in the model's order.</summary>
    public IReadOnlyList<TensorSpec> Outputs { get; }

    /// <summary>The model's custom metadata (ONNX <c>metadata_props</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Whether every input and output has a free first dimension, so requests can be stacked along it into one run and
    /// the outputs cut back apart.
    /// </summary>
    public bool BatchesAlongFirstDimension { get; }

    /// <summary>Runs so far (one per <see cref="Run"/> call).</summary>
    public long RunCount => Interlocked.Read(ref _runs);

    /// <summary>
    /// Loads <paramref name="path"/> for <paramref name="device"/> (<see cref="InferenceDevices"/>). With
    /// <c>auto</c>, a CUDA execution provider that does not load is logged once, with the reason, and the CPU is used.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an ONNX model ONNX Runtime can load, or an input or output that is not a float32 tensor.</exception>
    /// <exception cref="InvalidOperationException"><c>cuda</c> was asked for and its execution provider did not load.</exception>
    /// <exception cref="ArgumentException">An unknown device.</exception>
    public static OnnxModel Load(string path, string device = InferenceDevices.Cpu, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        if (!InferenceDevices.All.Contains(device))
        {
            throw new ArgumentException($"Unknown device '{device}'; expected one of {string.Join(", ", InferenceDevices.All)}.", nameof(device));
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file not found: {path}", path);
        }

        OnnxRuntimeLog.EnsureEnvironment();
        string name = System.IO.Path.GetFileName(path);
        InferenceSession? session = null;
        string provider = InferenceDevices.Cpu, note = "CPU execution provider (--device cpu)";
        try
        {
            if (device != InferenceDevices.Cpu)
            {
                session = TryCreateCudaSession(path, out string? reason);
                if (session is not null)
                {
                    provider = InferenceDevices.Cuda;
                    note = "CUDA execution provider, GPU 0";
                }
                else if (device == InferenceDevices.Cuda)
                {
                    throw new InvalidOperationException($"The CUDA execution provider did not load: {reason}");
                }
                else
                {
                    note = $"CPU execution provider (CUDA did not load: {reason})";
                    LogCudaUnavailable(logger, name, reason!);
                }
            }

            session ??= new InferenceSession(path);
            var model = new OnnxModel(path, session, provider, note);
            LogLoaded(logger, name, provider, string.Join("; ", model.Inputs), string.Join("; ", model.Outputs));
            return model;
        }
        catch (OnnxRuntimeException ex)
        {
            session?.Dispose();
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {FirstLine(ex.Message)}", ex);
        }
        catch
        {
            session?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (every model input, by name) and returns <paramref name="outputs"/>
    /// (names of model outputs; all of them when null), in that order.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime refused the inputs (e.g. dimensions that do not fit together).</exception>
    public IReadOnlyList<FloatTensor> Run(IReadOnlyList<FloatTensor> inputs, IReadOnlyList<string>? outputs = null)
    {
        outputs ??= Outputs.Select(o => o.Name).ToArray();
        var values = new OrtValue[inputs.Count];
        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                values[i] = OrtValue.CreateTensorValueFromMemory(inputs[i].Data, inputs[i].Shape);
            }

            Interlocked.Increment(ref _runs);
            using var results = _session.Run(_runOptions, inputs.Select(t => t.Name).ToArray(), values, outputs.ToArray());
            var tensors = new FloatTensor[outputs.Count];
            int k = 0;
            foreach (OrtValue result in results)
            {
                long[] shape = result.GetTensorTypeAndShape().Shape;
                tensors[k] = new FloatTensor(outputs[k], shape, result.GetTensorDataAsSpan<float>().ToArray());
                k++;
            }

            return tensors;
        }
        finally
        {
            foreach (OrtValue? value in values)
            {
                value?.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    /// <summary>A session on the CUDA execution provider, or null with the reason it is not available here.</summary>
    private static InferenceSession? TryCreateCudaSession(string path, out string? reason)
    {
        string[] available;
        try
        {
            available = OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            reason = FirstLine(ex.Message);
            return null;
        }

        if (!available.Contains(CudaProviderName))
        {
            reason = $"this ONNX Runtime build has no CUDA execution provider (it has {string.Join(", ", available)}); " +
                     "build with -p:OnnxRuntimeGpu=true for the CUDA build (Microsoft.ML.OnnxRuntime.Gpu.Linux)";
            return null;
        }

        SessionOptions? options = null;
        using var log = OnnxRuntimeLog.Capture();
        try
        {
            options = SessionOptions.MakeSessionOptionWithCudaProvider(0);
            var session = new InferenceSession(path, options);
            reason = null;
            return session;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            // Typically a CUDA, cuBLAS or cuDNN library that is missing or of another major version, or no GPU; the
            // runtime's own log line names the library, the exception only says that one failed to load.
            reason = FirstLine(ex.Message) + (log.Errors.Count > 0 ? $" ({string.Join("; ", log.Errors.Distinct())})" : "");
            return null;
        }
        finally
        {
            options?.Dispose();
        }
    }

    private static TensorSpec[] Specs(IReadOnlyDictionary<string, NodeMetadata> metadata, string kind, string path) =>
        metadata.Select(entry =>
        {
            NodeMetadata node = entry.Value;
            if (!node.IsTensor || node.ElementDataType != TensorElementType.Float)
            {
                string type = node.IsTensor ? node.ElementDataType.ToString() : node.OnnxValueType.ToString();
                throw new InvalidDataException($"{path}: {kind} '{entry.Key}' is {type}; only float32 tensors are served.");
            }

            return new TensorSpec(entry.Key, node.Dimensions.Select(d => (long)d).ToArray());
        }).ToArray();

    private static string FirstLine(string message)
    {
        string line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Model {Model} runs on {Provider}: inputs {Inputs}; outputs {Outputs}")]
    private static partial void LogLoaded(ILogger logger, string model, string provider, string inputs, string outputs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "CUDA execution provider not loaded, so {Model} runs on the CPU: {Reason}")]
    private static partial void LogCudaUnavailable(ILogger logger, string model, string reason);
}
