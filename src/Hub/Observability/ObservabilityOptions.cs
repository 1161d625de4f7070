namespace Aicp.Hub.Observability;

/// <summary>
/// Observability settings, bound from the <c>Aicp</c> section next to the hub's own options (kept in a separate
/// class so routing and security settings evolve independently). Validated at start-up with every error reported together.
/// </summary>
public sealed class ObservabilityOptions
{
    /// <summary>Console log format: <c>simple</c> (the host's default) or <c>json</c>. The default value is null (host default).</summary>
    public string? LogFormat { get; set; }

    /// <summary>Capabilities the deployment must serve: known from start-up (metrics label, gauges at 0) and required by <c>/readyz</c>.</summary>
    public List<string> ExpectedCapabilities { get; set; } = [];

    /// <summary>Sliding window of the capacity plan, in seconds. The default value is 60.</summary>
    public int CapacityWindowSeconds { get; set; } = ObservabilityDefaults.CapacityWindowSeconds;

    /// <summary>Utilization the capacity plan sizes the fleet for. The default value is 0.7.</summary>
    public double CapacityTargetUtilization { get; set; } = ObservabilityDefaults.TargetUtilization;

    /// <summary>Routing decisions kept for <c>/v1/routes</c>. The default value is 1,000.</summary>
    public int RouteLogCapacity { get; set; } = ObservabilityDefaults.RouteLogCapacity;

    /// <summary>Most distinct capabilities used as metric labels; later ones are reported as <c>_unknown</c>. The default value is 1,000.</summary>
    public int MaxCapabilityLabels { get; set; } = ObservabilityDefaults.MaxCapabilityLabels;

    /// <summary>OpenTelemetry (OTLP) export; off unless <see cref="OtlpOptions.Endpoint"/> is set.</summary>
    public OtlpOptions Otlp { get; set; } = new();

    /// <summary>The live status feed behind <c>/dashboard</c> (<c>SubscribeStatus</c>).</summary>
    public DashboardOptions Dashboard { get; set; } = new();
}

/// <summary>The live status feed (<c>Aicp:Dashboard</c>).</summary>
public sealed class DashboardOptions
{
    /// <summary>How often subscribers get a snapshot, in milliseconds (100..60,000). The default value is 1,000.</summary>
    public int PushIntervalMs { get; set; } = ObservabilityDefaults.DashboardPushIntervalMs;

    /// <summary>Most connections subscribed at once (1..1,000); later subscriptions are refused. The default value is 16.</summary>
    public int MaxSubscribers { get; set; } = ObservabilityDefaults.DashboardMaxSubscribers;
}

/// <summary>OTLP export of the hub's traces and metrics.</summary>
public sealed class OtlpOptions
{
    /// <summary>Collector address, e.g. <c>http://127.0.0.1:4317</c> (grpc) or <c>http://127.0.0.1:4318</c> (http/protobuf). The default value is null: no export.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>. The default value is <c>grpc</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>How often metrics are pushed, in milliseconds. The default value is 15,000.</summary>
    public int MetricExportIntervalMs { get; set; } = 15_000;

    /// <summary>The <c>service.name</c> resource attribute. The default value is <c>aicp-hub</c>.</summary>
    public string ServiceName { get; set; } = "aicp-hub";
}

/// <summary>Defaults of <see cref="ObservabilityOptions"/>.</summary>
public static class ObservabilityDefaults
{
    public const int CapacityWindowSeconds = 60;
    public const double TargetUtilization = 0.7;
    public const int RouteLogCapacity = 1_000;
    public const int MaxCapabilityLabels = 1_000;
    public const int DashboardPushIntervalMs = 1_000;
    public const int DashboardMaxSubscribers = 16;
}
