using System.Net.Security;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>Where the hub is and how to reach it; shared by agents and task clients.</summary>
public class AicpConnectionOptions
{
    /// <summary>
    /// The hub's base URL, e.g. <c>http://127.0.0.1:5000</c> (or <c>https://</c>, <c>ws://</c>, <c>wss://</c>). <c>/aicp</c>
    /// is appended unless the URL has a path. Several nodes of one cluster may be given separated by commas
    /// (<c>http://hub-1:5000,http://hub-2:5000</c>), as in <see cref="HubUrls"/>. Used when <see cref="HubUrls"/> is
    /// empty. The default value is <c>http://127.0.0.1:5000</c>.
    /// </summary>
    public string HubUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>
    /// Several hub nodes of one fleet: each connect attempt takes the next URL in turn, so a connection lost with one
    /// node comes back on another. Takes precedence over <see cref="HubUrl"/> when not empty.
    /// </summary>
    public IList<string> HubUrls { get; set; } = [];

    /// <summary>The wire protocol. The default value is <see cref="HubProtocol.Json"/>.</summary>
    public HubProtocol Protocol { get; set; } = HubProtocol.Json;

    /// <summary>
    /// The contract of payloads and results: property names, ignore rules and converters, on both protocols. Frozen when
    /// the agent or client is created. The default value is <see cref="CreateSerializerOptions"/>'s.
    /// </summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = CreateSerializerOptions();

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

    /// <summary>Every problem with the connection settings, one line each.</summary>
    public IReadOnlyList<string> ValidateConnection()
    {
        var problems = new List<string>();
        foreach (var url in Urls())
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
            {
                problems.Add($"Hub URL '{url}' is not an absolute http, https, ws or wss URL.");
            }
        }

        if (ReconnectInitialDelay <= TimeSpan.Zero)
        {
            problems.Add("ReconnectInitialDelay must be positive.");
        }

        if (ReconnectMaxDelay < ReconnectInitialDelay)
        {
            problems.Add("ReconnectMaxDelay must be at least ReconnectInitialDelay.");
        }

        return problems;
    }

    /// <summary>The wire's conventions: System.Text.Json's web defaults (camelCase, case-insensitive), nulls left out.</summary>
    public static JsonSerializerOptions CreateSerializerOptions() => new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The hub endpoints, in the order connects try them (see <see cref="HubUrls"/>).</summary>
    public IReadOnlyList<Uri> ResolveEndpoints() => [.. Urls().Select(Resolve)];

    private IEnumerable<string> Urls() => HubUrls.Count > 0 ? HubUrls : HubUrl.Split(',', StringSplitOptions.TrimEntries);

    private static Uri Resolve(string url)
    {
        var uri = new Uri(url, UriKind.Absolute);
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
