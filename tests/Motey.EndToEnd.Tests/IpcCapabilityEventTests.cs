using System.Net.Http.Json;
using System.Net.Sockets;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests;

/// <summary>
/// The agent's capability event listener on an ipc:// endpoint (a Unix socket speaking ZMTP), against the publishers
/// the original Motey used (pyzmq on Debian's libzmq 4.3.4), `motey capability`, and clients that misbehave.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
public sealed class IpcCapabilityEventTests : IAsyncLifetime
{
    private static readonly Capability Gpu = new("gpu", "hardware");
    private readonly TestScope _scope = new("motey-e2e-ipc-");

    private string SocketFile => Path.Combine(_scope.Root, "capability_engine.ipc");
    private string Endpoint => "ipc://" + SocketFile;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.StopAsync();

    private AgentProcess StartAgent(string name) =>
        _scope.Add(AgentProcess.Start(_scope.Folder(name), settings: new Dictionary<string, string> { ["ZEROMQ:capability_engine_ipc_path"] = Endpoint }));

    private static Task<List<Capability>> WaitForCapabilitiesAsync(AgentProcess agent, Func<List<Capability>, bool> condition, string what) =>
        Wait.ForAsync(async () => (await agent.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!, condition, what,
            c => $"GET /v1/capabilities: {string.Join(", ", c.Select(x => $"{x.Name} ({x.Type})"))}\n{agent.Output}");

    private async Task PublishLikeTheOriginalAsync(string command, string name, string type = "hardware")
    {
        var (code, output) = await Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(Endpoint, command, name, type));
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task The_original_addcapability_adds_and_removes_a_capability_of_a_running_agent()
    {
        var agent = StartAgent("agent");
        await agent.WaitHealthyAsync();

        await PublishLikeTheOriginalAsync("add_capability", "gpu");
        await WaitForCapabilitiesAsync(agent, c => c.Contains(Gpu), "GET /v1/capabilities shows gpu (hardware)");
        await PublishLikeTheOriginalAsync("remove_capability", "gpu");
        await WaitForCapabilitiesAsync(agent, c => !c.Contains(Gpu), "GET /v1/capabilities no longer shows gpu");

        Assert.Contains($"Listening for capability events on {Endpoint}", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_publishers_at_once_and_motey_capability_are_all_heard()
    {
        var agent = StartAgent("agent");
        await agent.WaitHealthyAsync();

        var publishers = Enumerable.Range(0, 4).Select(i => PublishLikeTheOriginalAsync("add_capability", $"sensor{i}")).ToList();
        var cli = AgentProcess.CommandAsync("capability", "add", "lab", "--config", Path.Combine(agent.Folder, "config.ini"));
        await Task.WhenAll(publishers);
        var (code, output) = await cli;

        Assert.True(code == 0, output);
        Assert.Contains($"sent add_capability for lab (hardware) to {Endpoint}", output, StringComparison.Ordinal);
        await WaitForCapabilitiesAsync(agent, c => c.Contains(new Capability("lab", "hardware")) && Enumerable.Range(0, 4).All(i => c.Contains(new Capability($"sensor{i}", "hardware"))),
            "all five capabilities are shown");
    }

    [Fact]
    public async Task Motey_capability_add_is_heard_by_a_pyzmq_subscriber_bound_on_the_ipc_path()
    {
        var (config, _) = AgentProcess.WriteConfig(_scope.Folder("cli"), AgentProcess.NextAddress(),
            new Dictionary<string, string> { ["ZEROMQ:capability_engine_ipc_path"] = Endpoint });
        await using var subscriber = Pyzmq.Start(Pyzmq.SubscriberScript(Endpoint, ""));
        await subscriber.WaitForLineAsync("bound");

        var (code, output) = await AgentProcess.CommandAsync("capability", "add", "gpu", "--config", config);

        Assert.True(code == 0, output);
        Assert.Equal(0, await subscriber.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("""received add_capability#[{"capability":"gpu","capability_type":"hardware"}]""", subscriber.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_sends_garbage_is_dropped_and_the_listener_goes_on()
    {
        var agent = StartAgent("agent");
        await agent.WaitHealthyAsync();

        using (var garbage = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await garbage.ConnectAsync(new UnixDomainSocketEndPoint(SocketFile));
            await garbage.SendAsync("add_capability#[{\"capability\": \"raw\", \"capability_type\": \"hardware\"}]\n"u8.ToArray());
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (await garbage.ReceiveAsync(new byte[4096], SocketFlags.None, deadline.Token) > 0)
            {
            }
        }

        await Wait.UntilAsync(() => agent.Output.Contains("Dropped a connection from pid ", StringComparison.Ordinal), "the agent logs the dropped client",
            detail: () => agent.Output);
        Assert.Contains("not ZeroMQ: its first octet is 0x61", agent.Output, StringComparison.Ordinal);
        await PublishLikeTheOriginalAsync("add_capability", "gpu");
        var capabilities = await WaitForCapabilitiesAsync(agent, c => c.Contains(Gpu), "the event after the garbage is applied");
        Assert.DoesNotContain(new Capability("raw", "hardware"), capabilities);
    }

    [Fact]
    public async Task The_socket_file_left_by_a_killed_agent_does_not_block_the_next_start()
    {
        var agent = StartAgent("agent");
        await agent.WaitHealthyAsync();
        agent.Kill();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(SocketFile), "kill -9 leaves the socket file behind");

        var restarted = _scope.Add(agent.Restart());
        await restarted.WaitHealthyAsync();

        Assert.Contains($"Removed the stale socket file {SocketFile}: nothing listened on it", restarted.Output, StringComparison.Ordinal);
        await PublishLikeTheOriginalAsync("add_capability", "gpu");
        await WaitForCapabilitiesAsync(restarted, c => c.Contains(Gpu), "the restarted agent hears the original's publisher");
    }

    [Fact]
    public async Task A_second_agent_on_the_same_socket_file_is_refused_with_a_clear_message_and_the_first_keeps_it()
    {
        var first = StartAgent("first");
        await first.WaitHealthyAsync();

        var second = StartAgent("second");
        var code = await second.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 1, second.Output);
        Assert.Contains($"motey: cannot start: cannot bind the capability event listener on {Endpoint}: another process listens on {SocketFile} "
            + "(another agent, or the original Motey's capability engine?)", second.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(SocketFile), "the refused agent leaves the first one's socket file alone");
        await PublishLikeTheOriginalAsync("add_capability", "gpu");
        await WaitForCapabilitiesAsync(first, c => c.Contains(Gpu), "the first agent still hears publishers");
    }
}
