using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A real redis-server on loopback for one test: a free port, an empty directory, no persistence. It can be stopped
/// and started again on the same port (a Redis outage and its return).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aicp-redis-").FullName;
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The configuration string hubs take (<c>Aicp:Cluster:Redis</c>).</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The settings of a hub that is node <paramref name="node"/> of a cluster on this server: heartbeats every 200 ms, and the node TTL given.</summary>
    public Dictionary<string, string?> NodeSettings(string node, string nodeTtl = "00:00:01") => new()
    {
        ["Aicp:Cluster:Redis"] = Endpoint, ["Aicp:Cluster:NodeId"] = node,
        ["Aicp:Cluster:HeartbeatInterval"] = "00:00:00.2", ["Aicp:Cluster:NodeTtl"] = nodeTtl,
    };

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(LoopbackPort.Free());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var path = ExternalTool.Require("redis-server", "apt-get install -y --no-install-recommends redis-server");
        var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await TestTimeouts.Eventually(() =>
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"redis-server listening on {Port}");
    }

    /// <summary>Kills the server (an outage).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync().DefaultTimeout();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

}
