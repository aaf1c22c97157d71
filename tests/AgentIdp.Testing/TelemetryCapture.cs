using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentIdp.Testing;

/// <summary>
/// What a service under test exports through OpenTelemetry, kept in memory: the service's own
/// configuration (sources, instrumentation, filters) with in-memory exporters in place of OTLP. Sources
/// and meters are process-wide, so spans and measurements of other hosts in the test process land here too;
/// a test picks its own out by trace id or tag.
/// </summary>
public sealed class TelemetryCapture
{
    private readonly Locked<Activity> _spans = new();
    private readonly Locked<MetricSnapshot> _metrics = new();
    private readonly Locked<LogRecord> _logs = new();
    private readonly List<IServiceProvider> _services = [];

    public IReadOnlyList<Activity> Spans => _spans.Snapshot();
    public IReadOnlyList<LogRecord> Logs => _logs.Snapshot();

    /// <summary>The metrics as of now: every provider is flushed first, and each metric's latest snapshot is kept.</summary>
    public IReadOnlyList<MetricSnapshot> Metrics
    {
        get
        {
            Flush();
            return [.. _metrics.Snapshot().GroupBy(m => m.Name).Select(g => g.Last())];
        }
    }

    /// <summary>Adds the in-memory exporters to a host's services: for WebApplicationFactory's ConfigureTestServices.</summary>
    public void AddTo(IServiceCollection services) =>
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddInMemoryExporter(_spans))
            .WithMetrics(metrics => metrics.AddInMemoryExporter(_metrics))
            .WithLogging(logging => logging.AddInMemoryExporter(_logs));

    /// <summary>For WebApplicationFactory.WithWebHostBuilder: the host exports to this capture.</summary>
    public void Configure(IWebHostBuilder builder) => builder.ConfigureTestServices(AddTo);

    /// <summary>Remembers a host whose providers <see cref="Flush"/> flushes.</summary>
    public void Watch(IServiceProvider services) => _services.Add(services);

    public void Flush()
    {
        foreach (var services in _services)
        {
            services.GetService<TracerProvider>()?.ForceFlush();
            services.GetService<MeterProvider>()?.ForceFlush();
            services.GetService<LoggerProvider>()?.ForceFlush();
        }
    }

    /// <summary>The metric named <paramref name="name"/>'s points, each as its tags.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Points(string name) =>
        [.. AllMetricSnapshots().Where(m => m.Name == name).SelectMany(m => m.MetricPoints).Select(point => Tags(point.Tags))];

    /// <summary>
    /// Every snapshot exported so far, after a flush. Points reads them all, not the latest of each name: when
    /// several hosts export to one capture, the latest snapshot of a name is only the last host's.
    /// </summary>
    private IReadOnlyList<MetricSnapshot> AllMetricSnapshots()
    {
        Flush();
        return _metrics.Snapshot();
    }

    /// <summary>Everything exported, as one text: every span's names, attributes, events, links and status; every metric's names and tags; every log record's category, body, attributes, scopes and exception.</summary>
    public string Text()
    {
        Flush();
        var text = new StringBuilder();
        foreach (var span in Spans)
        {
            text.Append(span.OperationName).Append(' ').Append(span.DisplayName).Append(' ').Append(span.StatusDescription).Append('\n');
            AppendPairs(text, span.TagObjects);
            AppendPairs(text, span.Baggage.Select(b => new KeyValuePair<string, object?>(b.Key, b.Value)));
            foreach (var spanEvent in span.Events)
            {
                text.Append(spanEvent.Name).Append('\n');
                AppendPairs(text, spanEvent.Tags);
            }
            foreach (var link in span.Links)
            {
                AppendPairs(text, link.Tags ?? []);
            }
        }
        foreach (var metric in Metrics)
        {
            text.Append(metric.Name).Append(' ').Append(metric.Description).Append('\n');
            foreach (var point in metric.MetricPoints)
            {
                AppendPairs(text, Tags(point.Tags));
            }
        }
        foreach (var log in Logs)
        {
            text.Append(log.CategoryName).Append(' ').Append(log.Body).Append(' ').Append(log.FormattedMessage).Append(' ')
                .Append(log.Exception).Append('\n');
            AppendPairs(text, log.Attributes ?? []);
            log.ForEachScope((scope, builder) =>
            {
                foreach (var pair in scope)
                {
                    builder.Append(pair.Key).Append('=').Append(pair.Value).Append('\n');
                }
            }, text);
        }
        return text.ToString();
    }

    private static Dictionary<string, object?> Tags(ReadOnlyTagCollection tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }
        return result;
    }

    private static void AppendPairs(StringBuilder text, IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        foreach (var (key, value) in pairs)
        {
            text.Append(key).Append('=').Append(value is System.Collections.IEnumerable list and not string
                ? string.Join(',', list.Cast<object?>()) : value).Append('\n');
        }
    }

    /// <summary>An exporter's collection that may be read while the exporter adds to it.</summary>
    private sealed class Locked<T> : ICollection<T>
    {
        private readonly List<T> _items = [];
        private readonly Lock _gate = new();

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public IReadOnlyList<T> Snapshot()
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_gate)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_gate)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
