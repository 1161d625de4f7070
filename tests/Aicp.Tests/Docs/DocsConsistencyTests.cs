using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aicp.Hub.Configuration;
using Aicp.Hub.Hosting;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using MessagePack;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Docs;

/// <summary>
/// What README.md and docs/ say the hub serves and accepts, compared with what it does: the endpoint tables, the
/// configuration keys and their defaults, the metric families, the security event kinds, the wire shapes and error
/// codes, and the example responses. A change on either side without the other fails here.
/// </summary>
public sealed partial class DocsConsistencyTests
{
    private static readonly Markdown Readme = Markdown.Read("README.md");
    private static readonly Markdown Observability = Markdown.Read("docs/OBSERVABILITY.md");
    private static readonly Markdown Security = Markdown.Read("docs/SECURITY.md");
    private static readonly Markdown Protocol = Markdown.Read("docs/PROTOCOL.md");

    /// <summary>
    /// The HTTP routes the hub maps outside its SignalR endpoint, as <c>METHOD /path</c> (<c>GET /v1/agents</c>,
    /// <c>POST /v1/tasks</c>); a route for any method (a health check) counts as GET.
    /// </summary>
    private static SortedSet<string> ServedRoutes()
    {
        using var hub = new HubFactory();
        var routes = hub.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Path: "/" + e.RoutePattern.RawText!.TrimStart('/'), Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? new[] { HttpMethods.Get }))
            .Where(r => !r.Path.StartsWith(ProtocolDefaults.HubPath, StringComparison.Ordinal))
            .SelectMany(r => r.Methods.Where(m => m is "GET" or "POST" or "PUT" or "PATCH" or "DELETE").Select(m => $"{m} {r.Path}"));
        var served = new SortedSet<string>(routes, StringComparer.Ordinal);
        if (Directory.Exists(Aicp.Hub.Dashboard.DashboardEndpoints.Root))
        {
            served.Add("GET " + Aicp.Hub.Dashboard.DashboardEndpoints.Path + "/"); // static files, not an endpoint route
        }

        return served;
    }

    /// <summary>The routes in an endpoint table's first column, as <c>METHOD /path</c> (<c>GET /v1/routes?limit=N</c> is <c>GET /v1/routes</c>).</summary>
    private static SortedSet<string> DocumentedRoutes(Markdown.Table table) => new(
        table.Rows.Select(r => Markdown.CodeSpans(r[0]).Single().Split(' ')).Select(c => $"{c[0]} {c[1].Split('?')[0]}"), StringComparer.Ordinal);

    [Fact]
    public void Endpoints_ReadmeAndObservabilityTables_AreTheRoutesTheHubServes()
    {
        var served = ServedRoutes();

        Assert.Equal(served, DocumentedRoutes(Readme.TableStartingWith("endpoint")));
        Assert.Equal(served, DocumentedRoutes(Observability.TableStartingWith("endpoint")));
    }

    [Fact]
    public void Endpoints_SecurityRoleTable_NamesEveryStatusRouteAndFrontDoor()
    {
        var rows = Security.TableStartingWith("method or route").Rows;
        var row = rows.Single(r => r[0].StartsWith("`GET /v1/", StringComparison.Ordinal));
        var documented = Markdown.CodeSpans(row[0]).Select(c => c.Replace("GET ", "", StringComparison.Ordinal));
        var elsewhere = rows.Where(r => r != row).SelectMany(r => Markdown.CodeSpans(r[0])).ToHashSet(StringComparer.Ordinal); // a door's own GET route (GET /v1/models)

        Assert.Equal(ServedRoutes().Where(r => r.StartsWith("GET /v1/", StringComparison.Ordinal) && !elsewhere.Contains(r)).Select(r => r[4..]),
            documented.Order(StringComparer.Ordinal));
        Assert.All(ServedRoutes().Where(r => !r.StartsWith("GET ", StringComparison.Ordinal)), route =>
            Assert.True(elsewhere.Contains(route), $"{route} is in no row of docs/SECURITY.md's role table"));
    }

    [Fact]
    public async Task Endpoints_EveryDocumentedRoute_AnswersOnAnOpenHub()
    {
        await using var h = await HubHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        foreach (var route in DocumentedRoutes(Readme.TableStartingWith("endpoint")).Where(r => r.StartsWith("GET ", StringComparison.Ordinal)).Select(r => r[4..]))
        {
            using var response = await http.GetAsync(route).DefaultTimeout();
            Assert.True(response.IsSuccessStatusCode, $"GET {route}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public void StatusMethods_ReadmeList_AreTheHubsStatusMethods()
    {
        var paragraph = Readme.Paragraph("The status routes are also hub methods");
        var documented = Markdown.CodeSpans(paragraph[..paragraph.IndexOf('.', StringComparison.Ordinal)]).Select(c => c.Split('(')[0]).Order(StringComparer.Ordinal);
        var methods = typeof(Aicp.Hub.Hubs.AicpHubLifetimeManager).Assembly.GetType("Aicp.Hub.Hubs.AicpHub")!
            .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(m => m.Name).Where(n => n.StartsWith("Get", StringComparison.Ordinal) || n.EndsWith("Status", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

        Assert.Equal(methods, documented);
    }

    /// <summary>Documented keys (with <c>*</c>, <c>N</c> or <c>&lt;...&gt;</c> placeholders) made concrete, so they can be resolved.</summary>
    private static string Concrete(string key) => Placeholder().Replace(key.Replace(":N:", ":0:", StringComparison.Ordinal), "sample").Replace(":*", "", StringComparison.Ordinal);

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Placeholder();

    /// <summary>The README's configuration table: key (as documented) to default (as documented).</summary>
    private static Dictionary<string, string> ReadmeSettings() => Readme.TableStartingWith("key", "Configuration").Rows
        .SelectMany(r => Markdown.CodeSpans(r[0]).Select(k => (Key: k, Default: r[1])))
        .ToDictionary(r => r.Key, r => r.Default, StringComparer.Ordinal);

    /// <summary>SECURITY.md's configuration table, with its keys made absolute (<c>Aicp:Security:...</c>).</summary>
    private static Dictionary<string, string> SecuritySettings() => Security.TableStartingWith("key", "Configuration").Rows
        .SelectMany(r => Markdown.CodeSpans(r[0]).Select(k => (Key: AicpSecurityOptions.SectionName + ":" + k, Default: r[1])))
        .ToDictionary(r => r.Key, r => r.Default, StringComparer.Ordinal);

    /// <summary>OBSERVABILITY.md's OTLP table.</summary>
    private static Dictionary<string, string> OtlpSettings() => Observability.TableStartingWith("key", "OpenTelemetry").Rows
        .ToDictionary(r => Markdown.CodeSpans(r[0]).Single(), r => r[1], StringComparer.Ordinal);

    [Fact]
    public void Configuration_EveryDocumentedAicpKey_IsASetting()
    {
        var documented = ReadmeSettings().Keys.Concat(SecuritySettings().Keys).Concat(OtlpSettings().Keys)
            .Where(k => k.StartsWith(AicpHubOptions.SectionName + ":", StringComparison.Ordinal));

        Assert.All(documented, key => Assert.True(HubConfigurationCheck.SettingType(Concrete(key)) is not null, $"'{key}' is documented but no setting binds it"));
    }

    [Fact]
    public void Configuration_EverySetting_IsDocumented()
    {
        var documented = new HashSet<string>(
            ReadmeSettings().Keys.Concat(SecuritySettings().Keys).Concat(OtlpSettings().Keys).Select(k => Concrete(k).Replace(":sample", "", StringComparison.Ordinal)),
            StringComparer.OrdinalIgnoreCase);
        var settings = Settings(typeof(AicpHubOptions), "Aicp", recurseInto: [typeof(ObservabilityOptions), typeof(OtlpOptions), typeof(RetryBudgetOptions), typeof(HedgingOptions), typeof(StreamingOptions), typeof(ClusterOptions)])
            .Concat(Settings(typeof(ObservabilityOptions), "Aicp", recurseInto: [typeof(OtlpOptions), typeof(DashboardOptions)]))
            .Concat(Settings(typeof(AicpSecurityOptions), AicpSecurityOptions.SectionName, recurseInto: [typeof(JwtOptions), typeof(ApiKeyOptions)]));

        // A documented key covers the keys under it (Aicp:Health covers Aicp:Health:LatencyDecay, and so on).
        Assert.All(settings, key => Assert.True(documented.Any(d => key.Equals(d, StringComparison.OrdinalIgnoreCase) || key.StartsWith(d + ":", StringComparison.OrdinalIgnoreCase)),
            $"setting '{key}' is in no configuration table (README.md, docs/SECURITY.md, docs/OBSERVABILITY.md)"));
    }

    /// <summary>A type's settable keys under <paramref name="prefix"/>; lists as <c>:0</c>; only the named complex types are entered.</summary>
    private static IEnumerable<string> Settings(Type type, string prefix, Type[] recurseInto)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = $"{prefix}:{property.Name}";
            var element = property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(List<>)
                ? property.PropertyType.GetGenericArguments()[0]
                : null;
            if (recurseInto.Contains(property.PropertyType))
            {
                foreach (var inner in Settings(property.PropertyType, key, recurseInto))
                {
                    yield return inner;
                }
            }
            else if (element is not null && recurseInto.Contains(element))
            {
                foreach (var inner in Settings(element, key + ":0", recurseInto))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return key;
            }
        }
    }

    public static TheoryData<string, string> DocumentedDefaults()
    {
        var data = new TheoryData<string, string>();
        foreach (var (key, value) in ReadmeSettings().Concat(SecuritySettings()).Concat(OtlpSettings()))
        {
            if (!key.Contains('*') && !key.Contains('<') && !key.Contains(":N:") && key.StartsWith("Aicp:", StringComparison.Ordinal))
            {
                data.Add(key, value);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentedDefaults))]
    public void Configuration_DocumentedDefault_IsTheDefault(string key, string documented)
    {
        var actual = DefaultOf(key);
        var value = Markdown.CodeSpans(documented) is [var code] ? code : documented.Trim();
        switch (value)
        {
            case "none" or "-" or "unset = JWTs off" or "host default" or "empty = any":
                Assert.True(actual is null || actual is System.Collections.ICollection { Count: 0 }, $"{key}: documented '{documented}', default is {actual}");
                break;
            default:
                if (value.StartsWith("none (", StringComparison.Ordinal) || value.StartsWith("see ", StringComparison.Ordinal))
                {
                    Assert.Null(actual);
                    break;
                }

                Assert.Equal(value.Replace(",", "", StringComparison.Ordinal), Format(actual));
                break;
        }
    }

    /// <summary>The default of the setting <paramref name="key"/>: its value on freshly made options.</summary>
    private static object? DefaultOf(string key)
    {
        var (root, path) = key.StartsWith(AicpSecurityOptions.SectionName + ":", StringComparison.Ordinal)
            ? ((object)new AicpSecurityOptions(), key[(AicpSecurityOptions.SectionName.Length + 1)..])
            : typeof(AicpHubOptions).GetProperty(key.Split(':')[1]) is not null
                ? (new AicpHubOptions(), key[5..])
                : ((object)new ObservabilityOptions(), key[5..]);
        object? value = root;
        foreach (var segment in path.Split(':'))
        {
            value = value?.GetType().GetProperty(segment)!.GetValue(value);
        }

        return value;
    }

    private static string? Format(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>The metrics table: family name to (type, labels).</summary>
    private static Dictionary<string, (string Type, string[] Labels)> DocumentedMetrics() => Observability.TableStartingWith("metric").Rows.ToDictionary(
        r => Markdown.CodeSpans(r[0]).Single(),
        r => (r[1], Markdown.CodeSpans(r[2]).ToArray()),
        StringComparer.Ordinal);

    [Fact]
    public void Metrics_Table_IsEveryDeclaredFamilyWithItsLabels()
    {
        var declared = typeof(MetricFamilies).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(MetricFamily)).Select(f => (MetricFamily)f.GetValue(null)!)
            .ToDictionary(f => f.Name, f => f.Labels.Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        var documented = DocumentedMetrics();

        Assert.Equal(declared.Keys.Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
        Assert.All(declared, f => Assert.Equal(f.Value, documented[f.Key].Labels.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task Metrics_Table_NamesAndTypesAreWhatMetricsServes()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);

        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        var served = scrape.Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).ToDictionary(p => p[2], p => p[3], StringComparer.Ordinal);

        Assert.Equal(served.Keys.Order(StringComparer.Ordinal), DocumentedMetrics().Keys.Order(StringComparer.Ordinal));
        Assert.All(DocumentedMetrics(), m => Assert.Equal(served[m.Key], m.Value.Type));
    }

    [Fact]
    public void Metrics_AlertRules_UseDocumentedFamilies()
    {
        var rules = File.ReadAllText(Path.Combine(ExternalTool.RepositoryRoot, "deploy/prometheus/alerts.yml"));
        var documented = DocumentedMetrics().Keys.SelectMany(n => new[] { n, n + "_bucket", n + "_sum", n + "_count" }).ToHashSet(StringComparer.Ordinal);
        documented.Add("up");

        Assert.All(MetricName().Matches(rules).Select(m => m.Value).Distinct(), name => Assert.Contains(name, documented));
    }

    [GeneratedRegex(@"\b(aicp_[a-z_]+|up)\b(?=[{\[ )=><]|$)", RegexOptions.Multiline)]
    private static partial Regex MetricName();

    [Fact]
    public void SecurityEvents_Table_IsEveryKind()
    {
        var documented = Security.TableStartingWith("kind").Rows.Select(r => Markdown.CodeSpans(r[0]).Single());

        Assert.Equal(SecurityEventKinds.Labels.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    /// <summary>The MessagePack (and JSON) keys of a contract: the names a peer sees.</summary>
    private static SortedSet<string> Keys(Type contract) => new(
        contract.GetProperties().Select(p => p.GetCustomAttribute<KeyAttribute>()?.StringKey).OfType<string>(), StringComparer.Ordinal);

    /// <summary>The top-level field names of a shape written as <c>{a, b?, c[], d?{x, y}}</c>.</summary>
    private static SortedSet<string> Fields(string shape)
    {
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        var depth = 0;
        var name = new System.Text.StringBuilder();
        foreach (var c in shape.Trim()[1..^1] + ",")
        {
            if (c is '{' or '[')
            {
                depth++;
            }
            else if (c is '}' or ']')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                fields.Add(name.ToString().Trim().TrimEnd('?'));
                name.Clear();
            }
            else if (depth == 0 && c != '?')
            {
                name.Append(c);
            }
        }

        return fields;
    }

    public static TheoryData<string, string> Shapes() => new()
    {
        { "registration", nameof(AgentRegistration) },
        { "registration ack", nameof(RegistrationAck) },
        { "request", nameof(TaskRequest) },
        { "assignment", nameof(TaskAssignment) },
        { "completion", nameof(TaskCompletion) },
        { "result", nameof(TaskResult) },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Protocol_Shape_IsTheContractsFields(string shape, string contract)
    {
        var line = Protocol.Lines.Single(l => l.StartsWith($"**{shape}** ", StringComparison.Ordinal));
        var documented = Fields(Markdown.CodeSpans(line)[0]);

        Assert.Equal(Keys(typeof(AgentRegistration).Assembly.GetType($"Aicp.Protocol.{contract}")!), documented);
    }

    [Fact]
    public void Protocol_RouteEntry_IsTheContractsFields()
    {
        var line = Protocol.Lines.Single(l => l.TrimStart().StartsWith("`{agentId, method?, outcome", StringComparison.Ordinal));

        Assert.Equal(Keys(typeof(RouteEntry)), Fields(Markdown.CodeSpans(line)[0]));
    }

    [Fact]
    public void Protocol_LoadReport_IsTheContractsFields()
    {
        var row = Protocol.TableStartingWith("direction").Rows.Single(r => r[2] == "`ReportLoad`");

        Assert.Equal(Keys(typeof(AgentLoadReport)), Fields(Markdown.CodeSpans(row[3]).Single(c => c.StartsWith('{'))));
    }

    [Fact]
    public void Protocol_ErrorCodes_AreTheHubsCodes()
    {
        var known = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToHashSet(StringComparer.Ordinal);
        var table = Protocol.TableStartingWith("status");
        var documented = table.Rows.SelectMany(r => Markdown.CodeSpans(r[2]))
            .Concat(Markdown.CodeSpans(Protocol.Paragraph("`accepted` is false, `error` says why").Split("says why (")[1].Split(')')[0]));

        Assert.All(documented, code => Assert.Contains(code, known));
        Assert.Equal(typeof(TaskStatuses).GetFields().Select(f => (string)f.GetValue(null)!).Order(StringComparer.Ordinal),
            table.Rows.Select(r => Markdown.CodeSpans(r[0]).Single()).Order(StringComparer.Ordinal));
    }

    /// <summary>The JSON block that follows the line starting with <paramref name="marker"/> in OBSERVABILITY.md.</summary>
    private static JsonElement ExampleAfter(string marker)
    {
        var line = Array.FindIndex(Observability.Lines, l => l.StartsWith(marker, StringComparison.Ordinal)) + 1;
        var block = Observability.Blocks().First(b => b.Line > line && b.Info == "json");
        return JsonDocument.Parse(block.Text).RootElement;
    }

    /// <summary>The object's property names (an array's first element's), without the "…" placeholder.</summary>
    private static SortedSet<string> Names(JsonElement value)
    {
        var element = value.ValueKind == JsonValueKind.Array ? value[0] : value;
        return new SortedSet<string>(element.EnumerateObject().Select(p => p.Name).Where(n => n != "…"), StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("`GET /v1/agents`", "/v1/agents")]
    [InlineData("`GET /v1/capabilities`", "/v1/capabilities")]
    [InlineData("`GET /v1/routes?limit=2`", "/v1/routes?limit=2")]
    [InlineData("`GET /v1/capacity`", "/v1/capacity")]
    public async Task Observability_StatusExample_HasTheFieldsTheHubSends(string marker, string route)
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:ExpectedCapabilities:0"] = "text.embed" });
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var served = JsonDocument.Parse(await http.GetStringAsync(route).DefaultTimeout()).RootElement;

        Assert.Equal(Names(served), Names(ExampleAfter(marker)));
    }

    [Fact]
    public async Task Observability_ReadinessExample_HasTheFieldsTheHubSends()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:ExpectedCapabilities:0"] = "text.embed" });
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        using var response = await http.GetAsync("/readyz").DefaultTimeout();
        var served = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var documented = ExampleAfter("- `/readyz` (readiness)");

        Assert.Equal(Names(served), Names(documented));
        Assert.Equal(Names(served.GetProperty("checks").GetProperty("capabilities")), Names(documented.GetProperty("checks").GetProperty("capabilities")));
        Assert.Equal(documented.GetProperty("checks").GetProperty("capabilities").GetProperty("data").GetRawText().Replace("text.embed", "", StringComparison.Ordinal),
            served.GetProperty("checks").GetProperty("capabilities").GetProperty("data").GetRawText().Replace("text.embed", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Observability_LivenessExample_IsWhatTheHubSends()
    {
        await using var h = await HubHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        var documented = Markdown.CodeSpans(Observability.Lines.Single(l => l.StartsWith("  `{\"status\":\"Healthy\"", StringComparison.Ordinal))).Single();

        var served = await http.GetStringAsync("/healthz").DefaultTimeout();

        Assert.Equal(TotalMs().Replace(documented, "0"), TotalMs().Replace(served, "0"));
    }

    [GeneratedRegex(@"(?<=""totalMs"":)[0-9.]+")]
    private static partial Regex TotalMs();
}
