using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Motey.Abstractions;
using Motey.Host.Configuration;
using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>Whole agents built by <see cref="MoteyApp"/>, as <c>motey run</c> builds them: the peer services as the composition root wires them.</summary>
public sealed class PeerAgentTests
{
    [Fact]
    public async Task An_agent_hears_capability_events_and_answers_peers_on_its_own_address()
    {
        using var folder = new TestFolder();
        var address = Loopback.NewAddress();
        await using var app = Build(folder, address);
        await app.StartAsync();

        var code = await CapabilityEventPublisher.PublishAsync($"tcp://{address}:5090", CapabilityEventPublisher.AddCommand, [new Capability("gpu", "hardware")], TextWriter.Null);
        Assert.Equal(0, code);
        var store = app.Services.GetRequiredService<CapabilityRepository>();
        await Wait.UntilAsync(async () => (await store.AllAsync()).Contains(new Capability("gpu", "hardware")), "the agent stores the event's capability");

        var reply = CapabilityReply.Read(await RawPeer.AskAsync($"tcp://{address}:5091", ""));
        Assert.Equal([new Capability("gpu", "hardware"), new Capability("simulated", "plugin")], reply);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_second_agent_on_the_same_address_fails_to_start_naming_the_endpoint()
    {
        using var firstFolder = new TestFolder();
        using var secondFolder = new TestFolder();
        var address = Loopback.NewAddress();
        await using var first = Build(firstFolder, address);
        await first.StartAsync();

        await using (var second = Build(secondFolder, address))
        {
            var error = await Assert.ThrowsAsync<PeerBindException>(() => second.StartAsync());
            Assert.Contains($"tcp://{address}:509", error.Message);
            Assert.Contains("already in use", error.Message);
        }

        Assert.NotNull(CapabilityReply.Read(await RawPeer.AskAsync($"tcp://{address}:5091", "")));
        await first.StopAsync();
    }

    private static WebApplication Build(TestFolder folder, string address)
    {
        var plugin = Path.Combine(AppContext.BaseDirectory, "plugins", TestNode.Simulated);
        foreach (var file in Directory.GetFiles(plugin, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder.Path, "plugins", TestNode.Simulated, Path.GetRelativePath(plugin, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var config = Path.Combine(folder.Path, "config.ini");
        // Everything on the node's own loopback address, so agents of parallel tests never meet.
        File.WriteAllText(config, $"""
            [GENERAL]
            address = {address}
            [WEBSERVER]
            ip = {address}
            port = 0
            [MQTT]
            ip = {address}
            [PLUGINS]
            path = plugins
            [ZEROMQ]
            capability_engine_ipc_path = tcp://{address}:5090
            """);
        return MoteyApp.Build(ConfigLoader.LoadFile(config));
    }
}
