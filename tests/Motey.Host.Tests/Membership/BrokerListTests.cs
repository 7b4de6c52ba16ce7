using Motey.Host.Configuration;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Membership;

/// <summary>[MQTT] brokers as config.ini says it: the order kept, ip:port as the list when it is empty, mistakes named.</summary>
public sealed class BrokerListTests
{
    [Fact]
    public void The_broker_list_is_read_in_order_with_this_nodes_own_broker_last_when_it_hosts_one_and_the_list_leaves_it_out()
    {
        using var folder = new TestFolder();
        var config = Path.Combine(folder.Path, "config.ini");
        // Open mode: a plain broker beyond loopback (mqtt.example) is allowed there, and this test is about the list.
        File.WriteAllText(config, "[MQTT]\nbroker = embedded\nip = 127.0.0.3\nport = 1884\nbrokers = 127.0.0.2, mqtt.example:1885, [::1]:1886\n"
            + "[SECURITY]\nmode = open\n");
        Assert.Equal(["127.0.0.2:1884", "mqtt.example:1885", "[::1]:1886", "127.0.0.3:1884"], ConfigLoader.LoadFile(config).Mqtt.Brokers.Select(b => b.ToString()));

        File.WriteAllText(config, "[MQTT]\nbroker = external\nip = 127.0.0.3\n");
        Assert.Equal(["127.0.0.3:1883"], ConfigLoader.LoadFile(config).Mqtt.Brokers.Select(b => b.ToString()));

        foreach (var bad in new[] { "127.0.0.2,,127.0.0.3", "127.0.0.2:0", "127.0.0.2:x", "127.1", "a b:1883", "127.0.0.2, 127.0.0.2:1883" })
        {
            File.WriteAllText(config, $"[MQTT]\nbrokers = {bad}\n");
            var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(config));
            Assert.Contains("[MQTT] brokers", error.Message);
        }
    }
}
