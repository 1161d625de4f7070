using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

/// <summary>
/// A small Prometheus exporter for the hub's one <see cref="Meter"/>: a <see cref="MeterListener"/> aggregates the
/// synchronous instruments as they record (counters as sums, histograms as cumulative buckets) and polls the
/// observable ones at scrape time; <see cref="Render"/> writes the text exposition format 0.0.4.
/// prometheus-net and the OpenTelemetry Prometheus exporter cannot be restored here, and the format is small.
/// Recording is lock-free per series except histograms (one short lock per series); scrapes take one lock so
/// observable callbacks never interleave. Series carrying an <c>agent</c> label are dropped when that agent
/// leaves, so the exposition only ever holds live agents.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    /// <summary>Safety net: most series one family may hold. Label normalization keeps real use far below it.</summary>
    public const int MaxSeriesPerFamily = 10_000;

    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly MeterListener _listener;
    private readonly AgentRegistry _registry;
    private readonly Lock _scrapeLock = new();

    public PrometheusExporter(HubMetrics metrics, AgentRegistry registry)
    {
        _registry = registry;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                {
                    var family = _families.GetOrAdd(instrument, static i => new Family(i));
                    listener.EnableMeasurementEvents(instrument, family);
                }
            },
            MeasurementsCompleted = (instrument, _) => _families.TryRemove(instrument, out Family? _),
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
        registry.AgentRemoved += OnAgentRemoved;
    }

    /// <summary>Series currently held, over all families (observable ones as of the last scrape). For tests and diagnostics.</summary>
    public int SeriesCount => _families.Values.Sum(f => f.SeriesCount);

    /// <summary>Polls the observable instruments and writes every non-empty family in the text format.</summary>
    public string Render()
    {
        lock (_scrapeLock)
        {
            foreach (var family in _families.Values)
            {
                family.BeginScrape();
            }

            _listener.RecordObservableInstruments();

            var builder = new StringBuilder(16 * 1024);
            foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                family.Prune(IsGoneAgent);
                family.Write(builder);
            }

            return builder.ToString();
        }
    }

    public void Dispose()
    {
        _registry.AgentRemoved -= OnAgentRemoved;
        _listener.Dispose();
    }

    private bool IsGoneAgent(string agentId) => _registry.GetById(agentId) is null;

    private void OnAgentRemoved(AgentState agent)
    {
        // A replacement with the same id keeps the series: the identity is still live.
        if (_registry.GetById(agent.AgentId) is null)
        {
            foreach (var family in _families.Values)
            {
                family.Prune(id => id == agent.AgentId);
            }
        }
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One instrument: a metric family.</summary>
    private sealed class Family
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);

        // The same series, keyed by the raw tag values as recorded (up to three string tags), so recording needs no
        // label-key string. Entries are dropped with their series (see Prune).
        private readonly ConcurrentDictionary<TagSet, Series> _byTags = new();
        private readonly bool _observable;
        private readonly bool _additive;
        private readonly double[] _bounds;
        private Dictionary<string, Series> _observed = new(StringComparer.Ordinal);

        public Family(Instrument instrument)
        {
            _observable = instrument.IsObservable;
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            Kind = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>) ? Kind.Counter
                : generic == typeof(Histogram<>) ? Kind.Histogram
                : Kind.Gauge;
            _additive = !_observable && Kind != Kind.Histogram; // Counter, UpDownCounter
            var baseName = PrometheusTextFormat.Name(instrument.Name.Replace('.', '_'));
            Name = Kind == Kind.Counter && !baseName.EndsWith("_total", StringComparison.Ordinal) ? baseName + "_total" : baseName;
            Help = PrometheusTextFormat.Help(instrument.Description ?? instrument.Name);
            _bounds = (instrument as Histogram<double>)?.Advice?.HistogramBucketBoundaries?.ToArray()
                ?? (instrument as Histogram<long>)?.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray()
                ?? DefaultBuckets;
        }

        public string Name { get; }

        public string Help { get; }

        public Kind Kind { get; }

        public int SeriesCount => _observable ? _observed.Count : _series.Count;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_observable)
            {
                // Only reached from Render's RecordObservableInstruments, under the scrape lock.
                var (key, labels) = LabelKey(tags);
                _observed[key] = new Series(labels, 0) { Value = value };
                return;
            }

            // The hot path: an existing series is found by its tag values without allocating.
            var tagSet = TagSet.From(tags);
            if (tagSet is null || !_byTags.TryGetValue(tagSet.Value, out var series))
            {
                series = FindOrAddSeries(tags, tagSet);
                if (series is null)
                {
                    return;
                }
            }

            if (Kind == Kind.Histogram)
            {
                series.Observe(value, _bounds);
            }
            else if (_additive)
            {
                series.Add(value);
            }
        }

        private Series? FindOrAddSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags, TagSet? tagSet)
        {
            var (key, labels) = LabelKey(tags);
            if (!_series.TryGetValue(key, out var series))
            {
                if (_series.Count >= MaxSeriesPerFamily)
                {
                    return null;
                }

                series = _series.GetOrAdd(key, static (_, state) => new Series(state.labels, state.buckets), (labels, buckets: Kind == Kind.Histogram ? _bounds.Length + 1 : 0));
            }

            if (tagSet is { } set)
            {
                _byTags[set] = series;
            }

            return series;
        }

        public void BeginScrape()
        {
            if (_observable)
            {
                _observed = new Dictionary<string, Series>(StringComparer.Ordinal);
            }
        }

        /// <summary>Drops synchronous series whose <c>agent</c> label matches.</summary>
        public void Prune(Func<string, bool> agentIsGone)
        {
            if (_observable)
            {
                return;
            }

            foreach (var (key, series) in _series)
            {
                if (series.Agent is { } agent && agentIsGone(agent))
                {
                    _series.TryRemove(new KeyValuePair<string, Series>(key, series));
                }
            }

            foreach (var (tags, series) in _byTags)
            {
                if (series.Agent is { } agent && agentIsGone(agent))
                {
                    _byTags.TryRemove(new KeyValuePair<TagSet, Series>(tags, series));
                }
            }
        }

        public void Write(StringBuilder builder)
        {
            var all = (_observable ? _observed.Values : (IEnumerable<Series>)_series.Values)
                .OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            if (all.Count == 0)
            {
                return;
            }

            builder.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
            builder.Append("# TYPE ").Append(Name).Append(' ').Append(Kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" }).Append('\n');
            foreach (var series in all)
            {
                if (Kind == Kind.Histogram)
                {
                    var (counts, sum, count) = series.HistogramSnapshot();
                    long cumulative = 0;
                    for (var i = 0; i < counts.Length; i++)
                    {
                        cumulative += counts[i];
                        var le = i < _bounds.Length ? PrometheusTextFormat.Number(_bounds[i]) : "+Inf";
                        Sample(builder, Name + "_bucket", series.Labels, ("le", le)).Append(PrometheusTextFormat.Number(cumulative)).Append('\n');
                    }

                    Sample(builder, Name + "_sum", series.Labels, null).Append(PrometheusTextFormat.Number(sum)).Append('\n');
                    Sample(builder, Name + "_count", series.Labels, null).Append(PrometheusTextFormat.Number(count)).Append('\n');
                }
                else
                {
                    Sample(builder, Name, series.Labels, null).Append(PrometheusTextFormat.Number(series.Value)).Append('\n');
                }
            }
        }

        private static StringBuilder Sample(StringBuilder builder, string name, KeyValuePair<string, string>[] labels, (string Name, string Value)? extra)
        {
            builder.Append(name);
            if (labels.Length > 0 || extra is not null)
            {
                builder.Append('{');
                var first = true;
                foreach (var (label, value) in labels)
                {
                    builder.Append(first ? "" : ",").Append(label).Append("=\"");
                    PrometheusTextFormat.AppendLabelValue(builder, value);
                    builder.Append('"');
                    first = false;
                }

                if (extra is { } e)
                {
                    builder.Append(first ? "" : ",").Append(e.Name).Append("=\"").Append(e.Value).Append('"');
                }

                builder.Append('}');
            }

            return builder.Append(' ');
        }

        private static (string Key, KeyValuePair<string, string>[] Labels) LabelKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return ("", []);
            }

            var labels = new KeyValuePair<string, string>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                labels[i] = new(PrometheusTextFormat.Name(tags[i].Key, allowColon: false), Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            }

            Array.Sort(labels, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var key = new StringBuilder();
            foreach (var (name, value) in labels)
            {
                key.Append(name).Append('\u0000').Append(value).Append('\u0001');
            }

            return (key.ToString(), labels);
        }
    }

    /// <summary>One label set's value: a sum (counters), a last value (observed), or buckets (histograms).</summary>
    private sealed class Series
    {
        private readonly long[] _buckets;
        private double _value;
        private double _sum;

        public Series(KeyValuePair<string, string>[] labels, int buckets)
        {
            Labels = labels;
            _buckets = new long[buckets];
            Key = string.Join(",", labels.Select(l => l.Key + "=" + l.Value));
            Agent = labels.FirstOrDefault(l => l.Key == HubMetrics.Tags.Agent).Value;
        }

        public KeyValuePair<string, string>[] Labels { get; }

        public string Key { get; }

        /// <summary>The <c>agent</c> label's value, if the series has one.</summary>
        public string? Agent { get; }

        public double Value
        {
            get => Volatile.Read(ref _value);
            init => _value = value;
        }

        public void Add(double delta)
        {
            while (true)
            {
                var current = Volatile.Read(ref _value);
                if (Interlocked.CompareExchange(ref _value, current + delta, current).Equals(current))
                {
                    return;
                }
            }
        }

        public void Observe(double value, double[] bounds)
        {
            var index = bounds.Length;
            for (var i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    index = i;
                    break;
                }
            }

            // Lock-free: concurrent observations only contend on the cache lines they touch. A scrape may see a
            // sum a few observations ahead of or behind the buckets; the count is derived from the buckets so
            // _count and the +Inf bucket always agree.
            Interlocked.Increment(ref _buckets[index]);
            while (true)
            {
                var current = Volatile.Read(ref _sum);
                if (Interlocked.CompareExchange(ref _sum, current + value, current).Equals(current))
                {
                    return;
                }
            }
        }

        public (long[] Counts, double Sum, long Count) HistogramSnapshot()
        {
            var counts = new long[_buckets.Length];
            long count = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = Interlocked.Read(ref _buckets[i]);
                count += counts[i];
            }

            return (counts, Volatile.Read(ref _sum), count);
        }
    }

    /// <summary>Up to three tags whose values are strings, compared by value: the allocation-free lookup key of a series.</summary>
    private readonly record struct TagSet(string? K0, string? V0, string? K1, string? V1, string? K2, string? V2)
    {
        /// <summary>The tags as a key, or null when there are more than three or a value is not a string.</summary>
        public static TagSet? From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length > 3)
            {
                return null;
            }

            Span<(string? Key, string? Value)> items = [default, default, default];
            for (var i = 0; i < tags.Length; i++)
            {
                if (tags[i].Value is not string value)
                {
                    return null;
                }

                items[i] = (tags[i].Key, value);
            }

            // Order by key so the same labels given in another order find the same series.
            for (var i = 1; i < tags.Length; i++)
            {
                for (var j = i; j > 0 && string.CompareOrdinal(items[j - 1].Key, items[j].Key) > 0; j--)
                {
                    (items[j - 1], items[j]) = (items[j], items[j - 1]);
                }
            }

            return new TagSet(items[0].Key, items[0].Value, items[1].Key, items[1].Value, items[2].Key, items[2].Value);
        }
    }
}
