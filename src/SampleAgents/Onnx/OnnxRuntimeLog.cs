using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace Aicp.SampleAgents.Onnx;

/// <summary>
/// ONNX Runtime's own log (native, process-wide). Left alone it writes coloured lines to stderr, so the one useful
/// detail of a CUDA provider that does not load — which library is missing — lands apart from the message the
/// exception carries ("Failed to load shared library"). This creates the runtime's environment once with a logging
/// function: while <see cref="Capture"/> is active on a thread, that thread's error lines are collected for the caller
/// to put into its own message; every other warning or error goes to stderr, prefixed <c>onnxruntime:</c>.
/// </summary>
internal static partial class OnnxRuntimeLog
{
    private static readonly object Gate = new();

    [ThreadStatic]
    private static List<string>? _captured;

    /// <summary>Creates the runtime environment with this log, unless something created it first (then its default log stays).</summary>
    public static void EnsureEnvironment()
    {
        if (OrtEnv.IsCreated)
        {
            return;
        }

        lock (Gate)
        {
            if (OrtEnv.IsCreated)
            {
                return;
            }

            var options = new EnvironmentCreationOptions
            {
                logId = "Aicp.SampleAgents",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                loggingFunction = OnLog,
            };
            try
            {
                OrtEnv.CreateInstanceWithOptions(ref options);
            }
            catch (OnnxRuntimeException)
            {
                // Created meanwhile through OrtEnv.Instance(): the runtime keeps its default stderr log.
            }
        }
    }

    /// <summary>Collects this thread's runtime error lines until disposed; <see cref="Scope.Errors"/> has them, paths shortened to file names.</summary>
    public static Scope Capture() => new();

    private static void OnLog(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        if (severity < OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING)
        {
            return;
        }

        if (_captured is { } captured && severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR)
        {
            captured.Add(message);
            return;
        }

        Console.Error.WriteLine($"onnxruntime: {message}");
    }

    public sealed class Scope : IDisposable
    {
        private readonly List<string>? _outer = _captured;
        private readonly List<string> _lines = [];

        internal Scope() => _captured = _lines;

        /// <summary>The error lines so far, reduced to what a person needs: "Failed to load library libX.so with error: libY.so.13: cannot open ...".</summary>
        public IReadOnlyList<string> Errors => _lines.Select(Shorten).ToArray();

        public void Dispose() => _captured = _outer;
    }

    /// <summary>A runtime error line without the source location before "Failed to load library", and paths as file names.</summary>
    internal static string Shorten(string line)
    {
        int at = line.IndexOf("Failed to load library", StringComparison.Ordinal);
        return AbsolutePath().Replace(at >= 0 ? line[at..] : line, "$1").Trim();
    }

    /// <summary>An absolute path: only its file name is kept.</summary>
    [GeneratedRegex(@"/(?:[^/\s]+/)+([^/\s]+)")]
    private static partial Regex AbsolutePath();
}
