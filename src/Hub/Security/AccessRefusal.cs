using System.Text.Json;
using Aicp.Protocol;
using Microsoft.AspNetCore.Authorization;

namespace Aicp.Hub.Security;

/// <summary>
/// What a refused request gets back (401 and 403, on every protected route and at the hub endpoint's WebSocket upgrade):
/// the status, a <c>WWW-Authenticate: Bearer</c> challenge (RFC 6750: <c>invalid_token</c> for a credential the hub does not
/// accept, <c>insufficient_scope</c> for a missing role), the code in the <c>Aicp-Error-Code</c> header, and a JSON body
/// <c>{"error":{"code","message"}}</c> that says which credential or role the route needs. It never says why a presented
/// credential failed (unknown, revoked, expired): that goes to the security log only. The OpenAI door's routes get the
/// same error in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c> (<see cref="FrontDoors.OpenAi.OpenAiError"/>).
/// </summary>
internal static class AccessRefusal
{
    public const string Realm = "aicp";

    // The body is application/json, never embedded in HTML: quotes and angle brackets stay readable ('admin', <key or JWT>).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>401: no credential, or one the hub does not accept.</summary>
    public static Task WriteUnauthorizedAsync(HttpContext context)
    {
        var presented = BearerToken.Read(context.Request) is not null;
        var needs = $"{RequestName(context.Request)} needs an API key or JWT with {RequiredRoles(context)}";
        var message = presented
            ? $"The credential presented was not accepted (an unknown, revoked or expired API key, or an invalid or expired JWT). {needs}."
            : $"{needs}, presented as 'Authorization: Bearer <key or JWT>' or the '{ProtocolDefaults.AccessTokenQueryParameter}' query parameter.";
        var challenge = presented
            ? $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"The credential presented was not accepted.\""
            : $"Bearer realm=\"{Realm}\"";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, message, challenge);
    }

    /// <summary>403: an accepted credential without the role the route needs.</summary>
    public static Task WriteForbiddenAsync(HttpContext context)
    {
        var held = context.User.FindAll(AicpClaimTypes.Role).Select(c => $"'{c.Value}'").ToList();
        var message = $"{RequestName(context.Request)} needs {RequiredRoles(context)}; the credential presented has "
                      + (held.Count == 0 ? "no role." : $"{string.Join(", ", held)}.");
        var challenge = $"Bearer realm=\"{Realm}\", error=\"insufficient_scope\", error_description=\"This route needs {RequiredRoles(context)}.\"";
        return WriteAsync(context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, message, challenge);
    }

    /// <summary>The roles the endpoint's policy asks for, in words (e.g. <c>the 'admin' role</c>).</summary>
    internal static string RequiredRoles(HttpContext context)
    {
        var policies = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy) ?? [];
        return policies.FirstOrDefault(p => p is not null) switch
        {
            AicpAuthenticationSchemes.ConnectPolicy => "the 'agent', 'submitter' or 'admin' role",
            AicpAuthenticationSchemes.CallerPolicy => "the 'submitter' role",
            AicpAuthenticationSchemes.StatusPolicy => "the 'admin' role",
            AicpAuthenticationSchemes.MetricsPolicy => "the 'metrics' or 'admin' role",
            _ => "a role this route accepts",
        };
    }

    internal static string RequestName(HttpRequest request) => $"{request.Method} {request.Path}";

    private static async Task WriteAsync(HttpContext context, int status, string code, string message, string challenge)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.Headers.WWWAuthenticate = challenge;
        context.Response.Headers[ProtocolDefaults.ErrorCodeHeader] = code;
        if (context.GetEndpoint()?.Metadata.GetMetadata<FrontDoors.FrontDoorMetadata>() is { Door: FrontDoors.FrontDoorNames.OpenAi })
        {
            await FrontDoors.OpenAi.OpenAiError.WriteAsync(context, status, FrontDoors.OpenAi.OpenAiError.Of(status, code, message));
            return;
        }

        await context.Response.WriteAsJsonAsync(new { error = TaskError.Of(code, message) }, Json, context.RequestAborted);
    }
}
