using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// Authenticates an API key presented as a bearer token or <c>access_token</c> query parameter. With no
/// credentials configured at all (open mode) every request authenticates as an anonymous holder of every
/// role; start-up refuses open mode on a non-loopback address unless <c>AllowAnonymous</c> is set.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys, IOptions<AicpSecurityOptions> security)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!security.Value.HasCredentials)
        {
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(ApiKeyStore.Anonymous(Scheme.Name), Scheme.Name)));
        }

        var token = BearerToken.Read(Request);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var principal = keys.Authenticate(token, Scheme.Name);
        if (principal is null)
        {
            SecurityLog.UnknownKey(Logger, Context.Connection.RemoteIpAddress?.ToString() ?? "");
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }
}
