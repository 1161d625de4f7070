namespace Aicp.Tests.Infrastructure;

/// <summary>Reads a Prometheus text exposition the way a test needs it: sample lines by series, values by series.</summary>
public sealed class MetricsScrape
{
    private MetricsScrape(string text)
    {
        Text = text;
        Samples = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#'))
            .Select(l => (Series: l[..l.LastIndexOf(' ')], Value: l[(l.LastIndexOf(' ') + 1)..]))
            .ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal);
    }

    public string Text { get; }

    /// <summary>Series (name and labels as written) to value text.</summary>
    public IReadOnlyDictionary<string, string> Samples { get; }

    /// <summary>Scrapes <c>/metrics</c>, presenting <paramref name="token"/> when the hub requires a credential.</summary>
    public static async Task<MetricsScrape> FetchAsync(Uri hub, string? token = null)
    {
        using var http = new HttpClient { BaseAddress = hub };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return new MetricsScrape(await http.GetStringAsync("/metrics").DefaultTimeout());
    }

    /// <summary>Collects a registry directly, as <c>/metrics</c> would serve it.</summary>
    public static async Task<MetricsScrape> CollectAsync(Prometheus.CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream).DefaultTimeout();
        return new MetricsScrape(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>The sum of every sample of <paramref name="family"/> (all label sets).</summary>
    public double Sum(string family) => Samples
        .Where(s => s.Key == family || s.Key.StartsWith(family + "{", StringComparison.Ordinal))
        .Sum(s => double.Parse(s.Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The count of <c>aicp_front_door_requests_total</c> for one door and outcome.</summary>
    public double FrontDoor(string door, string status) => Value($"aicp_front_door_requests_total{{door=\"{door}\",status=\"{status}\"}}");

    public double Value(string series) => Samples.TryGetValue(series, out var value)
        ? double.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
        : throw new Xunit.Sdk.XunitException($"series {series} not in the scrape:\n{Text}");
}
