using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Security;

/// <summary>
/// Authenticates an API key presented as a bearer token or <c>access_token</c> query parameter. With no
/// credentials configured at all (open mode) every request authenticates as an anonymous holder of every
/// role; start-up refuses open mode on a non-loopback address unless <c>AllowAnonymous</c> is set.
/// A key with an expiry puts it in the ticket (<see cref="AuthenticationProperties.ExpiresUtc"/>), which is when
/// SignalR closes a connection opened with it. Refusals (401 and 403) are security events, answered by <see cref="AccessRefusal"/>.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys, IOptions<AicpSecurityOptions> security, SecurityEvents events)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string NoCredential = "no credential presented";

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

        var key = keys.Authenticate(token, out var failure);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.Fail(failure!));
        }

        var properties = new AuthenticationProperties { ExpiresUtc = key.ExpiresAt };
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(key.CreatePrincipal(Scheme.Name), properties, Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        events.AuthenticationFailed(RequestName(Request), RemoteAddress(Context), result.Failure?.Message ?? NoCredential);
        await AccessRefusal.WriteUnauthorizedAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        events.RoleRefused(RequestName(Request), Context.User.FindFirst(AicpClaimTypes.Name)?.Value ?? "anonymous", RemoteAddress(Context), "the role this route needs is missing");
        return AccessRefusal.WriteForbiddenAsync(Context);
    }

    internal static string RequestName(HttpRequest request) => AccessRefusal.RequestName(request);

    internal static string RemoteAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "";
}
