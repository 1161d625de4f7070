namespace Aicp.Hub.Security;

/// <summary>The three roles a credential may carry. Role names are case-sensitive, lower case.</summary>
public static class AicpRoles
{
    /// <summary>May Register, Complete and Drain.</summary>
    public const string Agent = "agent";

    /// <summary>May Submit.</summary>
    public const string Submitter = "submitter";

    /// <summary>May read the status API (<c>/v1/*</c>).</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Agent, Submitter, Admin];
}

/// <summary>Claim types the hub reads from a principal (API key or JWT).</summary>
public static class AicpClaimTypes
{
    /// <summary>A role; JWTs carry it as <c>role</c> (one value or an array).</summary>
    public const string Role = "role";

    /// <summary>A pattern of agent ids the credential may register (e.g. <c>gpu-*</c>). Absent: any id.</summary>
    public const string AgentId = "aicp_agent_id";

    /// <summary>A pattern of capabilities the credential may register. Absent: any capability.</summary>
    public const string Capability = "aicp_capability";

    /// <summary>The credential's name (API key name, or the JWT <c>sub</c>); partitions the rate limit.</summary>
    public const string Name = "sub";
}

/// <summary>Authentication scheme and authorization policy names.</summary>
public static class AicpAuthenticationSchemes
{
    /// <summary>The default scheme: forwards to <see cref="JwtBearer"/> for a JWT-shaped token, else to <see cref="ApiKey"/>.</summary>
    public const string Default = "Aicp";

    public const string ApiKey = "AicpApiKey";

    public const string JwtBearer = "AicpJwt";

    /// <summary>Policy on the hub endpoint: an authenticated principal (in open mode everyone is).</summary>
    public const string ConnectPolicy = "aicp-connect";

    /// <summary>Policy on <c>/v1/*</c>: the admin role, or a loopback caller when <see cref="AicpSecurityOptions.StatusOpenOnLoopback"/>.</summary>
    public const string StatusPolicy = "aicp-status";
}
