using Carter;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Motey.Host.Api;
using Motey.Host.Api.OpenApi;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Events;
using Motey.Host.Core.Fencing;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Metrics;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Core.Placement;
using Motey.Host.Health;
using Motey.Host.Logging;
using Motey.Host.Membership;
using Motey.Host.Metrics;
using Motey.Host.Peers;
using Motey.Host.Plugins;
using Motey.Host.Security;
using Motey.Host.Storage;
using Serilog;
using Serilog.Formatting.Display;

namespace Motey.Host;

/// <summary>The composition root: one agent built from its settings.</summary>
internal static class MoteyApp
{
    /// <summary>
    /// The API's Carter modules, mapped in this order. Listed rather than registered with AddCarter: its assembly scan
    /// (DependencyModel, FluentValidation validators, every type of the agent's assembly and of the assemblies those
    /// name: YamlDotNet, output caching, rate limiting, authentication) cost an idle node 3 MiB and found nothing more.
    /// </summary>
    private static readonly ICarterModule[] Modules =
    [
        new ServiceModule(), new CapabilitiesModule(), new NodesModule(), new NodeStatusModule(), new HeartbeatModule(),
        new PluginsModule(), new InstancesModule(), new LogsModule(), new SecurityModule(), new EventsModule(), new MetricsModule(),
    ];

    public static WebApplication Build(MoteySettings settings, Action<WebApplicationBuilder>? customize = null, bool console = true)
    {
        NetMqLimits.Raise();  // before the first NetMQ socket of the process, or NetMQ keeps its 1,024
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(MoteyApp).Assembly.GetName().Name,
            ContentRootPath = settings.BaseDirectory,
            // Read with reload on change, the builder's JSON files put an inotify watch on every folder below the content
            // root (config.ini's folder: with a config in a home folder, the whole home) before the sources are cleared.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        // config.ini is the agent's whole configuration. The builder's own sources (appsettings*.json beside config.ini,
        // every environment variable, the arguments) would let a stray "Kestrel:Endpoints" add a listener beside
        // [WEBSERVER]'s: plain HTTP, past the rules that allow a bind beyond loopback only with authentication.
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            // Not max_body_bytes (RequestBody enforces that): Kestrel drains a body the app refused unread only up to
            // this limit (5 s at most) and resets the connection beyond it, so a client that sends a body over
            // max_body_bytes without asking to continue would see a broken pipe instead of its 413.
            kestrel.Limits.MaxRequestBodySize = settings.WebServer.MaxBodyBytes * RequestBody.DrainFactor;
            kestrel.AddServerHeader = false;
        });

        // The listener (HTTPS when configured) and the tokens: a file that is wrong stops the start here.
        RestSecurity.Add(builder, settings);
        if (settings.WebServer.CorsOrigins.Count > 0)
        {
            // Pages of these origins may call the API: any method and header (Authorization included), Location readable.
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
            {
                if (settings.WebServer.CorsOrigins.Contains("*")) policy.AllowAnyOrigin();
                else policy.WithOrigins([.. settings.WebServer.CorsOrigins]);
                policy.AllowAnyMethod().AllowAnyHeader().WithExposedHeaders("Location");
            }));
        }

        var logger = CreateLogger(settings, console);
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);

        var database = new Database(settings.Database.Path);
        using (var loggers = new Serilog.Extensions.Logging.SerilogLoggerFactory(logger))
            database.Initialize(loggers.CreateLogger<Database>());

        var services = builder.Services;
        services.AddSystemd();  // Type=notify under systemd; nothing otherwise
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        var identity = NodeIdentity.From(settings.General.Address, settings.WebServer.Ip);
        services.AddSingleton(identity with { FormerAddresses = database.RememberAddress(identity.Address) });
        // Storage: SQLite behind the core's ports.
        services.AddSingleton(database);
        services.AddSingleton<CapabilityRepository>();
        // Events and metrics: every capability and service write goes through a store that tells what changed.
        services.AddSingleton<EventHub>();
        services.AddSingleton<MoteyPrometheus>();
        services.AddSingleton<IMoteyMetrics>(sp => sp.GetRequiredService<MoteyPrometheus>());
        services.AddSingleton<RequestMetrics>();
        services.AddSingleton<ICapabilityStore>(sp => new EventingCapabilityStore(sp.GetRequiredService<CapabilityRepository>(),
            sp.GetRequiredService<EventHub>(), sp.GetRequiredService<ILogger<EventingCapabilityStore>>()));
        services.AddSingleton<NodeRepository>();
        services.AddSingleton<INodeStore>(sp => sp.GetRequiredService<NodeRepository>());
        services.AddSingleton<ServiceRepository>();
        services.AddSingleton<IServiceStore>(sp => new EventingServiceStore(sp.GetRequiredService<ServiceRepository>(),
            sp.GetRequiredService<EventHub>(), sp.GetRequiredService<IMoteyMetrics>(), sp.GetRequiredService<ILogger<EventingServiceStore>>()));
        // The core: capabilities, nodes, placement, orchestration, the fence.
        services.AddSingleton<ClusterChanges>();
        services.AddSingleton<CapabilityView>();
        services.AddSingleton<NodeCapabilities>();
        services.AddSingleton<PluginCatalog>();
        services.AddSingleton<IEngines>(sp => sp.GetRequiredService<PluginCatalog>());
        services.AddSingleton(new LocalNodeSettings(settings.Plugins.CallTimeout));
        services.AddSingleton<LocalNode>();
        services.AddSingleton<PeerAnswers>();
        // The cluster's size, read lazily: the directory itself reaches its peers through these.
        services.AddSingleton(sp => new ZeroMqPeers(sp.GetRequiredService<NodeIdentity>(), sp.GetRequiredService<LocalNode>(), settings,
            sp.GetRequiredService<PeerAnswers>(), sp.GetRequiredService<IMoteyMetrics>(),
            () => sp.GetRequiredService<ClusterNodes>().PeerAddresses.Count));
        services.AddSingleton<IRemoteNodeFactory, ZeroMqRemoteNodes>();
        services.AddSingleton<ClusterNodes>();
        services.AddSingleton<IPeerDirectory>(sp => sp.GetRequiredService<ClusterNodes>());
        services.AddSingleton<MembershipStatus>();
        services.AddSingleton<PresencePublisher>();
        services.AddSingleton<DirectPeerChecks>();
        services.AddSingleton(PlacementSettings.For(settings.ZeroMq.RequestTimeout));
        services.AddSingleton(sp => new Placer(sp.GetRequiredService<LocalNode>(), sp.GetRequiredService<IPeerDirectory>(),
            sp.GetRequiredService<CapabilityView>(), sp.GetRequiredService<PlacementSettings>(), sp.GetRequiredService<ILogger<Placer>>()));
        services.AddSingleton(settings.Orchestrator);
        services.AddSingleton<ServiceLocks>();
        services.AddSingleton<ServiceIntents>();
        services.AddSingleton<Deployer>();
        services.AddSingleton<Terminator>();
        services.AddSingleton<Reconciler>();
        services.AddSingleton<Orchestrator>();
        services.AddSingleton<InstanceOwnership>();
        services.AddSingleton<BlueprintValidator>();
        services.AddSingleton<NodeStatusSampler>();
        // Order matters. Start: plugins before anything answers peers or resumes work; the embedded broker
        // before membership joins it. Stop (reverse): membership says goodbye before the broker stops.
        services.AddHostedService<PluginHost>();
        services.AddHostedService<PeerRepliers>();
        services.AddHostedService<CapabilityEventListener>();
        services.AddHostedService<EmbeddedBroker>();
        services.AddHostedService<MqttMembership>();
        services.AddHostedService(sp => sp.GetRequiredService<DirectPeerChecks>());
        services.AddHostedService<LastSeenRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeStatusSampler>());
        services.AddHostedService<EngineMonitor>();
        services.AddHostedService<PluginWatcher>();
        services.AddHostedService<InstanceFence>();
        services.AddHostedService<OrchestrationWorker>();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<PluginsHealthCheck>("plugins")
            .AddCheck<MembershipStatus>("membership");
        services.AddProblemDetails();

        customize?.Invoke(builder);

        var app = builder.Build();
        // First: it sees every answer, the exception handler's and the guard's included.
        var requests = app.Services.GetRequiredService<RequestMetrics>();
        app.Use(requests.InvokeAsync);
        app.Services.GetRequiredService<MoteyPrometheus>().AddGauges(app.Services);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Before authentication: a browser's preflight carries no token, and is answered by CORS alone.
        if (settings.WebServer.CorsOrigins.Count > 0) app.UseCors();
        RestSecurity.Use(app, settings);
        // The modules in one group: its conventions add the answers the guard gives (401, 403) to their metadata.
        var api = app.MapGroup("");
        RestSecurity.DescribeAnswers(api, settings);
        foreach (var module in Modules) module.AddRoutes(api);
        app.MapHealthChecks("/healthz")
            .AllowAnonymous()
            .WithTags("node")
            .WithSummary("Liveness probe: Healthy, Degraded (membership not joined yet) or Unhealthy, as text")
            .WithMetadata(
                new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/plain"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(string), ["text/plain"]),
                new OpenApiExample(StatusCodes.Status200OK, "\"Healthy\""),
                new OpenApiExample(StatusCodes.Status503ServiceUnavailable, "\"Unhealthy\""));
        // Its generator is made when the document is first asked for, from the services above (customize's included).
        OpenApiOnDemand.Map(app, services, "/openapi/v1.json");
        if (settings.WebServer.Dashboard) Dashboard.DashboardEndpoints.Map(app);
        return app;
    }

    /// <summary>The log event property that holds [LOGGER] name.</summary>
    public const string LoggerNameProperty = "LoggerName";
    /// <summary>A line of the log file: time, level, [LOGGER] name, the class that logs, the message.</summary>
    public const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {" + LoggerNameProperty + "}: {SourceContext}: {Message:lj}{NewLine}{Exception}";
    /// <summary>A line on standard output: as in the file, with a shorter time.</summary>
    public const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {" + LoggerNameProperty + "}: {SourceContext}: {Message:lj}{NewLine}{Exception}";

    private static Serilog.Core.Logger CreateLogger(MoteySettings settings, bool console)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(settings.Logger.Level)
            .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
            // Every probe of a degraded node (each poll of `motey start`, of a monitor) would add a warning; membership
            // logs its own changes once. A failing check still logs an error per probe.
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", Serilog.Events.LogEventLevel.Error)
            // [LOGGER] name on every line, as the original's Logbook channel was.
            .Enrich.WithProperty(LoggerNameProperty, settings.Logger.Name)
            .WriteTo.Sink(new RotatingFileSink(settings.Logger.FilePath, new MessageTemplateTextFormatter(FileTemplate),
                LoggerSettings.FileSizeLimitBytes, LoggerSettings.RolledFiles));
        // A daemon has no terminal: it logs to the file only. In the foreground every line goes to standard output, as the
        // original's did (sys.stdout); standard error keeps what is not a log line (motey: cannot start: ...).
        if (console)
        {
            configuration = configuration.WriteTo.Console(outputTemplate: ConsoleTemplate, standardErrorFromLevel: null);
        }
        return configuration.CreateLogger();
    }
}
