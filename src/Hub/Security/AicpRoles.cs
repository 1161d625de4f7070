namespace Aicp.Hub.Security;

/// <summary>The roles a credential may carry. Role names are case-sensitive, lower case. docs/SECURITY.md has the table of what each may do.</summary>
public static class AicpRoles
{
    /// <summary>May Register, Complete, Drain and ReportLoad.</summary>
    public const string Agent = "agent";

    /// <summary>May Submit.</summary>
    public const string Submitter = "submitter";

    /// <summary>May read status data: <c>/v1/*</c>, the status hub methods (GetAgents, ...) and <c>/metrics</c>.</summary>
    public const string Admin = "admin";

    /// <summary>May read <c>/metrics</c> only (a scraper's credential); may not open a hub connection.</summary>
    public const string Metrics = "metrics";

    public static readonly IReadOnlyList<string> All = [Agent, Submitter, Admin, Metrics];

    /// <summary>The roles that may open a connection to the hub endpoint.</summary>
    public static readonly string[] Connect = [Agent, Submitter, Admin];
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

    /// <summary>Policy on the hub endpoint: a principal with the agent, submitter or admin role (in open mode everyone has them).</summary>
    public const string ConnectPolicy = "aicp-connect";

    /// <summary>Policy on <c>/v1/*</c>: the admin role, or a loopback caller when <see cref="AicpSecurityOptions.StatusOpenOnLoopback"/>.</summary>
    public const string StatusPolicy = "aicp-status";

    /// <summary>
    /// Policy on the HTTP front doors that run tasks (<c>POST /v1/tasks</c>): an authenticated caller; the submitter role
    /// is checked per task by <see cref="HubCallGate"/>, as for <c>Submit</c>.
    /// </summary>
    public const string CallerPolicy = "aicp-caller";

    /// <summary>Policy on <c>/metrics</c>: as <see cref="AicpSecurityOptions.MetricsAccess"/> says.</summary>
    public const string MetricsPolicy = "aicp-metrics";
}
