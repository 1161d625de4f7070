using System.Net.Security;
using System.Net.WebSockets;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>Where the hub is and how to reach it; shared by agents and task clients.</summary>
public class AicpConnectionOptions
{
    /// <summary>The hub's base URL, e.g. http://127.0.0.1:5000. <c>/aicp</c> is appended unless the URL has a path.</summary>
    public string HubUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>
    /// Wire protocol: <c>json</c> (the default) or <c>messagepack</c> (binary frames; recommended when payloads carry
    /// binary data such as images, which then travel as MessagePack <c>bin</c> where the hub's contract allows).
    /// </summary>
    public string Protocol { get; set; } = HubProtocols.Json;

    /// <summary>First delay before reconnecting. The default value is 250 ms.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Cap on the exponential reconnect delay. The default value is 10 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A bearer token (API key or JWT) sent on every connect. Ignored when <see cref="AccessTokenProvider"/> is set.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>Supplies the bearer token on every connect and reconnect (e.g. to refresh a JWT); null or empty sends none.</summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessTokenProvider { get; set; }

    /// <summary>
    /// Send the token as the <c>access_token</c> query parameter instead of the <c>Authorization</c> header
    /// (what browser clients do). Query strings can end up in proxy logs; prefer the header. The default value is false.
    /// </summary>
    public bool SendAccessTokenInQuery { get; set; }

    /// <summary>
    /// Decides whether the hub's TLS certificate is trusted, for <c>https://</c> and <c>wss://</c> hub URLs. Null (the
    /// default): the operating system's trust store decides. <see cref="HubCertificates.TrustRoots"/> makes one that also
    /// trusts a private CA or a self-signed hub certificate.
    /// </summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidationCallback { get; set; }

    /// <summary>Hook for other socket options (headers, client certificates, proxies); runs after the options above are applied.</summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }

    /// <summary>The hub endpoint URI derived from <see cref="HubUrl"/>.</summary>
    public Uri ResolveEndpoint()
    {
        var uri = new Uri(HubUrl, UriKind.Absolute);
        if (uri.AbsolutePath is "" or "/")
        {
            uri = new Uri(uri, Aicp.Protocol.ProtocolDefaults.HubPath);
        }

        return uri;
    }

    /// <summary><paramref name="uri"/> with the token as its <c>access_token</c> query parameter.</summary>
    internal static Uri WithAccessToken(Uri uri, string token)
    {
        var parameter = Aicp.Protocol.ProtocolDefaults.AccessTokenQueryParameter + "=" + Uri.EscapeDataString(token);
        var builder = new UriBuilder(uri);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? parameter : builder.Query.TrimStart('?') + "&" + parameter;
        return builder.Uri;
    }
}

/// <summary>Protocol names accepted by <see cref="AicpConnectionOptions.Protocol"/>.</summary>
public static class HubProtocols
{
    public const string Json = "json";
    public const string MessagePack = "messagepack";
}
