using System.Net;
using System.Net.Sockets;
using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// An embedded broker whose port is taken, most often by the mosquitto a node of the original Motey used: the start
/// fails saying how to use that broker instead.
/// </summary>
public sealed class EmbeddedBrokerPortTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("", " (config.ini sets no broker, and an ip of this host means this node hosts it)")]
    [InlineData("broker = embedded\n", "")]
    public async Task A_taken_broker_port_stops_the_start_saying_to_set_broker_external_if_that_is_your_broker(string broker, string implied)
    {
        var address = _folder.Address;
        using var mosquitto = new TcpListener(IPAddress.Parse(address), 0);
        mosquitto.Start();
        var port = ((IPEndPoint)mosquitto.LocalEndpoint).Port;
        var config = Path.Combine(_folder.Path, "config.ini");
        File.WriteAllText(config, $"""
            [WEBSERVER]
            ip = {address}
            port = 0
            [MQTT]
            {broker}ip = {address}
            port = {port}
            [ZEROMQ]
            capability_engine_ipc_path = tcp://{address}:5090
            [PLUGINS]
            path = plugins
            """);
        var app = MoteyApp.Build(ConfigLoader.LoadFile(config), console: false);
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

            Assert.StartsWith($"[MQTT] cannot host the embedded broker on {address}:{port}: ", error.Message);
            Assert.EndsWith("; something else listens there: if that is your broker, set [MQTT] broker = external" + implied, error.Message);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
