using Aicp.Protocol;

namespace Aicp.Hub.Security;

/// <summary>Where a caller's token comes from: <c>Authorization: Bearer</c>, else the <c>access_token</c> query parameter (browser WebSockets cannot set headers).</summary>
internal static class BearerToken
{
    private const string Prefix = "Bearer ";

    public static string? Read(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            var token = header[Prefix.Length..].Trim();
            return token.Length == 0 ? null : token;
        }

        var query = request.Query[ProtocolDefaults.AccessTokenQueryParameter].ToString();
        return query.Length == 0 ? null : query;
    }

    /// <summary>A compact JWS has exactly three dot-separated parts; API keys have no dots.</summary>
    public static bool LooksLikeJwt(string token) => token.AsSpan().Count('.') == 2;
}
