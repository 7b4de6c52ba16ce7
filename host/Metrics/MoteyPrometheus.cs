using Motey.Host.Core.Events;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Model;
using Motey.Host.Plugins;
using Motey.Host.Storage;
using Prometheus;

namespace Motey.Host.Metrics;

/// <summary>
/// GET /metrics's series, in a registry of this agent's own (nothing of prometheus-net's default registry, which would
/// start its EventCounter and Meter adapters). Counters and histograms are kept as the core reports them; the gauges
/// (services and images by state, nodes, plugins, subscribers) are read from their owners when a scrape asks.
/// </summary>
/// <remarks>
/// <para>The series are made at the first scrape, or once <see cref="MaxDeferred"/> observations wait: until then each
/// observation is kept and then replayed in order, so a scrape reads exactly what it would have read. A node nobody
/// scrapes does not load prometheus-net and the HTTP headers stack it pulls in (System.Net.Http), 2–3 MiB.</para>
/// <para>Not prometheus-net's MeterAdapter over a System.Diagnostics.Metrics Meter: tried with 8.2.1, it exports nothing
/// into a registry of one's own, exports Counter&lt;T&gt; as TYPE gauge without _total, and drops a series after 5
/// minutes without a new measurement (a counter that comes back starts again from 0).</para>
/// </remarks>
internal sealed class MoteyPrometheus : IMoteyMetrics
{
    /// <summary>Observations kept before the first scrape at most: about 100 KB of them, then the series are made.</summary>
    internal const int MaxDeferred = 1024;

    private readonly Lock _gate = new();
    private List<Action<MoteySeries>>? _deferred = [];
    private MoteySeries? _series;
    private IServiceProvider? _gaugeSource;

    /// <summary>The registry /metrics exports: makes the series (and replays what waited) on first use.</summary>
    public CollectorRegistry Registry => Series.Registry;

    /// <summary>The series when they exist (the first scrape, or enough observations, made them); null before.</summary>
    internal MoteySeries? CreatedSeries => Volatile.Read(ref _series);

    private MoteySeries Series => Volatile.Read(ref _series) ?? Create();

    /// <summary>
    /// The gauges are read at scrape from the services store, the cluster, the plugin catalog and the event hub, taken
    /// from <paramref name="provider"/> then (the cluster reaches peers through clients that report to this class).
    /// </summary>
    public void AddGauges(IServiceProvider provider)
    {
        lock (_gate)
        {
            _gaugeSource = provider;
            if (_series is not null) _series.AddGauges(provider);
        }
    }

    /// <summary>Applies <paramref name="observe"/> to the series, or keeps it for them while they do not exist.</summary>
    public void Observe(Action<MoteySeries> observe)
    {
        if (Volatile.Read(ref _series) is { } series)
        {
            observe(series);
            return;
        }
        lock (_gate)
        {
            if (_series is null && _deferred!.Count < MaxDeferred)
            {
                _deferred.Add(observe);
                return;
            }
        }
        observe(Series);
    }

    public void Placement(PlacementOutcome outcome, TimeSpan duration) => Observe(s => s.Placement(outcome, duration));

    public void PeerRequest(string kind, PeerOutcome outcome) => Observe(s => s.PeerRequest(kind, outcome));

    public void InstanceRestarted(string engine) => Observe(s => s.InstanceRestarted(engine));

    public void CapabilityEvent(string command, string outcome) => Observe(s => s.CapabilityEvent(command, outcome));

    private MoteySeries Create()
    {
        lock (_gate)
        {
            if (_series is null)
            {
                var series = new MoteySeries();
                if (_gaugeSource is not null) series.AddGauges(_gaugeSource);
                foreach (var observe in _deferred!) observe(series);
                _deferred = null;
                Volatile.Write(ref _series, series);
            }
            return _series;
        }
    }
}

/// <summary>The series themselves, made by <see cref="MoteyPrometheus"/> when first needed.</summary>
internal sealed class MoteySeries
{
    private static readonly double[] PlacementBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly double[] RequestBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter _placements;
    private readonly Histogram _placementSeconds;
    private readonly Counter _peerRequests;
    private readonly Counter _restarts;
    private readonly Counter _capabilityEvents;

    public MoteySeries()
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(Registry);
        _placements = metrics.CreateCounter("motey_placements_total", "Placements of images by outcome: local, peer, waiting, error.", "outcome");
        _placementSeconds = metrics.CreateHistogram("motey_placement_duration_seconds",
            "Time from the search for a node to the image's instance created (or waiting, or ERROR), by outcome.",
            new HistogramConfiguration { LabelNames = ["outcome"], Buckets = PlacementBuckets });
        _peerRequests = metrics.CreateCounter("motey_peer_requests_total",
            "Requests to other nodes by kind (capabilities, deploy, status, terminate, fence, logs) and outcome (ok, error, timeout).", "kind", "outcome");
        _restarts = metrics.CreateCounter("motey_instance_restarts_total", "Ended instances the agent replaced (restart policy), by engine.", "engine");
        _capabilityEvents = metrics.CreateCounter("motey_capability_events_total",
            "Capability events received, by command and outcome (applied, unchanged, dropped, failed).", "command", "outcome");
        Requests = new RequestSeries(
            metrics.CreateCounter("motey_http_requests_total", "REST requests answered, by method, route and code.", "method", "route", "code"),
            metrics.CreateHistogram("motey_http_request_duration_seconds", "Time to answer REST requests, by method, route and code.",
                new HistogramConfiguration { LabelNames = ["method", "route", "code"], Buckets = RequestBuckets }));
        foreach (var outcome in Enum.GetValues<PlacementOutcome>())
        {
            _placements.WithLabels(Name(outcome)).Publish();
            _placementSeconds.WithLabels(Name(outcome)).Publish();
        }
        ProcessMetrics.Register(Registry);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();
    public RequestSeries Requests { get; }

    /// <summary>The gauges read at scrape from the services taken from <paramref name="provider"/> then.</summary>
    public void AddGauges(IServiceProvider provider)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(Registry);
        var serviceStates = metrics.CreateGauge("motey_services", "Services this node accepted, by state.", "state");
        var imageStates = metrics.CreateGauge("motey_images", "Images of the services this node accepted, by state.", "state");
        var clusterNodes = metrics.CreateGauge("motey_cluster_nodes", "Nodes this node knows, itself included.");
        var pluginStates = metrics.CreateGauge("motey_plugins", "Plugin folders by state (Loading, Active, Failed, TimedOut, Deactivated).", "state");
        var engines = metrics.CreateGauge("motey_engine_available", "1 when the engine of an active plugin answers, else 0.", "engine", "plugin");
        var subscribers = metrics.CreateGauge("motey_event_subscribers", "Open GET /v1/events streams.");
        Registry.AddBeforeCollectCallback(async cancel =>
        {
            var services = provider.GetRequiredService<ServiceRepository>();
            var nodes = provider.GetRequiredService<ClusterNodes>();
            var plugins = provider.GetRequiredService<PluginCatalog>();
            var events = provider.GetRequiredService<EventHub>();
            var all = await services.AllAsync(cancel);
            foreach (var state in Enum.GetValues<ServiceState>())
            {
                serviceStates.WithLabels(EventTypes.StateName(state)).Set(all.Count(s => s.State == state));
                imageStates.WithLabels(EventTypes.StateName(state)).Set(all.Sum(s => s.Images.Count(i => (int)i.State == (int)state)));
            }
            clusterNodes.Set(nodes.PeerAddresses.Count + 1);
            var list = plugins.List();
            foreach (var state in Enum.GetValues<PluginState>()) pluginStates.WithLabels(state.ToString()).Set(list.Count(p => p.State == state));
            // A plugin that is no longer active has no engine to answer: 0, not its last value.
            foreach (var plugin in list.Where(p => p.Type is not null))
                engines.WithLabels(plugin.Type!, plugin.Name).Set(plugin.State == PluginState.Active && plugin.EngineAvailable ? 1 : 0);
            subscribers.Set(events.SubscriberCount);
        });
    }

    public void Placement(PlacementOutcome outcome, TimeSpan duration)
    {
        var name = Name(outcome);
        _placements.WithLabels(name).Inc();
        _placementSeconds.WithLabels(name).Observe(duration.TotalSeconds);
    }

    public void PeerRequest(string kind, PeerOutcome outcome) =>
        _peerRequests.WithLabels(kind, outcome switch { PeerOutcome.Ok => "ok", PeerOutcome.Timeout => "timeout", _ => "error" }).Inc();

    public void InstanceRestarted(string engine) => _restarts.WithLabels(engine).Inc();

    public void CapabilityEvent(string command, string outcome) => _capabilityEvents.WithLabels(command, outcome).Inc();

    private static string Name(PlacementOutcome outcome) => outcome switch
    {
        PlacementOutcome.Local => "local",
        PlacementOutcome.Peer => "peer",
        PlacementOutcome.Waiting => "waiting",
        _ => "error",
    };
}
