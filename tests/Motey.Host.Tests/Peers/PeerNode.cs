using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Membership;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Peers;
using Motey.Host.Plugins;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// The peer parts of one node, built from a real config.ini the way the agent builds them: a real SQLite file,
/// the compiled Simulated VAL loaded from disk, real sockets bound on a loopback address of its own
/// (127.77.x.y, the same ZeroMQ ports as every node), and a log that tests can read.
/// </summary>
internal sealed class PeerNode : IAsyncDisposable
{
    private readonly TestFolder _folder;
    private readonly ILoggerFactory _loggers;

    private PeerNode(TestFolder folder, string address, MoteySettings settings, LogCapture logs)
    {
        _folder = folder;
        Address = address;
        Settings = settings;
        Logs = logs;
        _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        var database = new Database(settings.Database.Path);
        database.Initialize();
        Capabilities = new CapabilityRepository(database);
        var identity = new NodeIdentity(address);
        Plugins = new PluginCatalog(settings, new NodeCapabilities(Capabilities), identity, _loggers);
        Local = new LocalNode(identity, Capabilities, Plugins, new LocalNodeSettings(settings.Plugins.CallTimeout));
        Peers = new ZeroMqPeers(identity, Local, settings);
    }

    public string Address { get; }
    public MoteySettings Settings { get; }
    public LogCapture Logs { get; }
    public CapabilityRepository Capabilities { get; }
    public PluginCatalog Plugins { get; }
    public LocalNode Local { get; }
    public ZeroMqPeers Peers { get; }
    public CapabilityEventListener? Listener { get; private set; }
    public PeerRepliers? Repliers { get; private set; }

    public string EventEndpoint => Settings.ZeroMq.CapabilityEngineEndpoint;
    public string CapabilitiesEndpoint => PeerSockets.Tcp(Address, Settings.ZeroMq.CapabilitiesReplier);
    public string DeployEndpoint => PeerSockets.Tcp(Address, Settings.ZeroMq.DeployImageReplier);
    public string StatusEndpoint => PeerSockets.Tcp(Address, Settings.ZeroMq.ImageStatusReplier);
    public string TerminateEndpoint => PeerSockets.Tcp(Address, Settings.ZeroMq.ImageTerminateReplier);

    /// <summary>
    /// A node on a fresh loopback address (or <paramref name="address"/>), nothing started yet. <paramref name="settings"/>
    /// ("SECTION:key" → value) override the defaults below. <paramref name="plugins"/> (folder names, as
    /// <see cref="TestNode.Docker"/>) replace the Simulated VAL.
    /// </summary>
    public static async Task<PeerNode> CreateAsync(
        bool simulatedPlugin = true, IReadOnlyDictionary<string, string>? settings = null, string? address = null, string[]? plugins = null)
    {
        var folder = new TestFolder();
        address ??= Loopback.NewAddress();
        var values = new Dictionary<string, string>
        {
            ["GENERAL:address"] = address,
            ["LOGGER:level"] = "Debug",
            ["PLUGINS:path"] = "plugins",
            ["ZEROMQ:capability_engine_ipc_path"] = $"tcp://{address}:5090",
            ["ZEROMQ:request_timeout"] = "5",
            ["SIMULATED:start_delay_ms"] = "20",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) values[key] = value;
        var config = Path.Combine(folder.Path, "config.ini");
        ConfigIni.Write(config, values);
        foreach (var plugin in plugins ?? (simulatedPlugin ? [TestNode.Simulated] : []))
            CopyDirectory(Path.Combine(AppContext.BaseDirectory, "plugins", plugin), Path.Combine(folder.Path, "plugins", plugin));
        var node = new PeerNode(folder, address, ConfigLoader.LoadFile(config), new LogCapture());
        await node.Plugins.LoadAllAsync(CancellationToken.None);
        return node;
    }

    public async Task<CapabilityEventListener> StartListenerAsync()
    {
        var listener = CreateListener();
        await listener.StartAsync(CancellationToken.None);
        return Listener = listener;
    }

    /// <summary>A listener on this node's store and log, not started (no socket): for calling its batch step directly.</summary>
    public CapabilityEventListener CreateListener() =>
        new(Settings, new NodeCapabilities(Capabilities), _loggers.CreateLogger<CapabilityEventListener>());

    /// <summary>Starts the repliers in front of <paramref name="local"/> (this node's <see cref="LocalNode"/> when null).</summary>
    public async Task<PeerRepliers> StartRepliersAsync(INodeClient? local = null)
    {
        var repliers = CreateRepliers(local);
        await repliers.StartAsync(CancellationToken.None);
        return Repliers = repliers;
    }

    public PeerRepliers CreateRepliers(INodeClient? local = null) =>
        new(Settings, new NodeIdentity(Address), local ?? Local, _loggers.CreateLogger<PeerRepliers>());

    public async Task StopListenerAsync()
    {
        if (Listener is null) return;
        await Listener.StopAsync(CancellationToken.None);
        Listener.Dispose();
        Listener = null;
    }

    public async Task StopRepliersAsync()
    {
        if (Repliers is null) return;
        await Repliers.StopAsync(CancellationToken.None);
        Repliers.Dispose();
        Repliers = null;
    }

    /// <summary>Polls the store until it holds exactly what <paramref name="condition"/> wants, failing after a deadline.</summary>
    public async Task<IReadOnlyList<Capability>> WaitForCapabilitiesAsync(Func<IReadOnlyList<Capability>, bool> condition, string what)
    {
        IReadOnlyList<Capability> last = [];
        await Wait.UntilAsync(async () => condition(last = await Capabilities.AllAsync()), what);
        return last;
    }

    public IValPlugin Simulated => Plugins.Find("simulated") ?? throw new InvalidOperationException("the simulated VAL is not active");

    public async ValueTask DisposeAsync()
    {
        await StopListenerAsync();
        await StopRepliersAsync();
        Peers.Dispose();
        await Plugins.DeactivateAllAsync(CancellationToken.None);
        _loggers.Dispose();
        _folder.Dispose();
    }

    private static void CopyDirectory(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"compiled test plugin missing: {from}");
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}

/// <summary>Loopback addresses for test nodes: all of 127.0.0.0/8 answers on Linux, so each node gets its own.</summary>
internal static class Loopback
{
    private static readonly HashSet<string> Used = [];

    /// <summary>A fresh 127.77.x.y, unique in this process and unlikely to meet a parallel test run.</summary>
    public static string NewAddress()
    {
        lock (Used)
        {
            while (true)
            {
                var address = $"127.77.{Random.Shared.Next(0, 256)}.{Random.Shared.Next(1, 255)}";
                if (Used.Add(address)) return address;
            }
        }
    }
}

/// <summary>Every log line, formatted, so tests can check that a reason was logged.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public bool Contains(string fragment) => _lines.Any(l => l.Contains(fragment, StringComparison.Ordinal));

    public Task WaitForAsync(string fragment) => Wait.UntilAsync(() => Contains(fragment), $"the log says '{fragment}'");

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
