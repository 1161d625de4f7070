using System.Net;
using System.Net.Sockets;

namespace Aicp.Tests.Infrastructure;

/// <summary>Free TCP ports on loopback, for programs a test starts on an address of its own.</summary>
public static class LoopbackPort
{
    /// <summary>A port nothing listens on now (the system's choice for a listener, released at once).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
