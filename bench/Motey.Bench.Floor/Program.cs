// The floor of the agent's stack: the bare app (bench/Motey.Bench.Bare) plus the least use of each library the agent
// must use, all done before Kestrel answers (as the agent's heartbeat answers only once the node is started): a SQLite
// file with one table; a collectible McMaster load context for one compiled plugin from disk (the agent's shipped
// simulated VAL), configured as host/Plugins configures it, and one instance of its VAL type; an MQTTnet broker on
// loopback and one MQTTnet client connected to it with a subscription; a NetMQ ROUTER bound on loopback and polled;
// Serilog to the console and a file; a small YAML parsed with YamlDotNet; the routes mapped by a Carter module.
// It answers what the bare app answers: GET /v1/capabilities and GET /v1/service with the bytes in the files given, GET /ping with 200.
// Usage: motey-bench-floor --urls http://ADDRESS:PORT --address ADDRESS --data FOLDER --plugin PLUGIN.dll [--capabilities FILE] [--service FILE]

using System.Net;
using McMaster.NETCore.Plugins;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Bench.Floor;
using MQTTnet;
using MQTTnet.Server;
using NetMQ;
using NetMQ.Sockets;
using Serilog;
using YamlDotNet.Core;

var builder = WebApplication.CreateBuilder(args);
var address = Setting("address");
var data = Setting("data");

var logger = new LoggerConfiguration()
    .MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
    .WriteTo.Console()
    .WriteTo.File(Path.Combine(data, "floor.log"))
    .CreateLogger();
builder.Logging.ClearProviders();
builder.Logging.AddSerilog(logger, dispose: true);
builder.Services.AddSingleton(new FloorBodies(Body("capabilities"), Body("service")));

using (var database = new SqliteConnection($"Data Source={Path.Combine(data, "floor.db")}"))
{
    database.Open();
    using var create = database.CreateCommand();
    create.CommandText = "CREATE TABLE IF NOT EXISTS capabilities (capability TEXT PRIMARY KEY, capability_type TEXT NOT NULL)";
    create.ExecuteNonQuery();
}

// The shared types and options of host/Plugins/PluginCatalog.
using var loader = PluginLoader.CreateFromAssemblyFile(Path.GetFullPath(Setting("plugin")),
    [typeof(IValPlugin), typeof(Microsoft.Extensions.Logging.ILogger), typeof(ILoggerFactory), typeof(IConfiguration), typeof(Microsoft.Extensions.Primitives.IChangeToken)],
    config =>
    {
        config.PreferSharedTypes = false;
        config.IsUnloadable = true;
        config.IsLazyLoaded = true;
    });
var valType = loader.LoadDefaultAssembly().GetExportedTypes().Single(t => typeof(IValPlugin).IsAssignableFrom(t) && !t.IsAbstract);
var val = (IValPlugin)Activator.CreateInstance(valType)!;

var brokers = new MqttServerFactory();
using var broker = brokers.CreateMqttServer(brokers.CreateServerOptionsBuilder()
    .WithDefaultEndpoint()
    .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(address))
    .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
    .WithDefaultEndpointPort(1883)
    .Build());
await broker.StartAsync();
using var client = new MqttClientFactory().CreateMqttClient();
await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(address, 1883).WithClientId($"floor-{address}").Build());
await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("motey/v1/register").Build());

using var router = new RouterSocket();
router.Bind($"tcp://{address}:5090");
router.ReceiveReady += (_, e) => e.Socket.SkipMultipartMessage();
using var poller = new NetMQPoller { router };
poller.RunAsync();

var parser = new Parser(new StringReader("service_name: floor\nimages:\n- name: x\n  engine: simulated\n"));
var yamlEvents = 0;
while (parser.MoveNext()) yamlEvents++;

var app = builder.Build();
new FloorModule().AddRoutes(app);
app.Logger.LogInformation("Floor app started: VAL {Engine} loaded, broker and client on {Address}:1883, ROUTER on port 5090, {Events} YAML events read",
    val.PluginType, address, yamlEvents);
await app.RunAsync();
poller.Stop();

string Setting(string name) => builder.Configuration[name] ?? throw new ArgumentException($"--{name} is missing");

byte[] Body(string name) => builder.Configuration[name] is { } path ? File.ReadAllBytes(path) : "[]"u8.ToArray();
