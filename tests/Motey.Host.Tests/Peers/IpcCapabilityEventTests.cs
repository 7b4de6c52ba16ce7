using Motey.Host.Core.Model;
using Motey.Host.Peers;
using Motey.Host.Peers.Zmtp;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Peers;

/// <summary>
/// The capability event listener on an ipc:// endpoint: a Unix socket speaking ZMTP, feeding the same queue, batches and
/// parsing as the tcp:// one, into a real SQLite store.
/// </summary>
public sealed class IpcCapabilityEventTests : IAsyncLifetime
{
    private static readonly Capability Gpu = new("gpu", "hardware");
    private readonly TempDirectory _sockets = new("motey-ipc-events-");
    private readonly TestFolder _keys = new();
    private readonly StringWriter _output = new();
    private PeerNode _node = null!;

    private string Endpoint => "ipc://" + Path.Combine(_sockets.Path, "capability_engine.ipc");

    public async Task InitializeAsync()
    {
        _node = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:capability_engine_ipc_path"] = Endpoint });
        await _node.StartListenerAsync();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _output.Dispose();
        _keys.Dispose();
        _sockets.Dispose();
    }

    [Fact]
    public async Task Motey_capability_add_and_remove_reach_the_store_over_the_unix_socket()
    {
        Assert.Equal(0, await CapabilityEventPublisher.PublishAsync(Endpoint, CapabilityEventPublisher.AddCommand, [Gpu], _output));
        await _node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "gpu is stored");
        Assert.Equal(0, await CapabilityEventPublisher.PublishAsync(Endpoint, CapabilityEventPublisher.RemoveCommand, [Gpu], _output));
        await _node.WaitForCapabilitiesAsync(c => c.Count == 0, "gpu is removed again");

        Assert.Contains($"sent add_capability for gpu (hardware) to {Endpoint}", _output.ToString(), StringComparison.Ordinal);
        Assert.Contains(_node.Logs.Lines, l => l.Contains($"Listening for capability events on {Endpoint}, from processes of this host that may write its socket file",
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_event_over_the_2_MiB_limit_costs_its_publisher_the_connection_and_the_next_publisher_lands()
    {
        using (var flooder = await IpcPublisher.ConnectAsync(Endpoint))
        {
            var huge = """add_capability#[{"capability": "big", "capability_type": "x"}]""" + new string(' ', (int)CapabilityEventListener.MaxEventBytes);
            try
            {
                await flooder.SendAsync(huge);
            }
            catch (IOException)
            {
                // The listener may close the connection before the whole frame is written.
            }
        }
        using var publisher = await IpcPublisher.ConnectAsync(Endpoint);
        await publisher.SendAsync("""add_capability#[{"capability": "after", "capability_type": "marker"}]""");

        Assert.Equal([new Capability("after", "marker")], await _node.WaitForCapabilitiesAsync(c => c.Count > 0, "the small event is stored"));
        Assert.Contains(_node.Logs.Lines, l => l.Contains("Dropped a connection from", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_event_over_the_unix_socket_is_dropped_with_its_reason_like_any_other()
    {
        using var publisher = await IpcPublisher.ConnectAsync(Endpoint);

        await publisher.SendAsync("""add_capability[{"capability": "x", "capability_type": "y"}]""");
        await publisher.SendAsync("""add_capability#[{"capability": "after", "capability_type": "marker"}]""");

        Assert.Equal([new Capability("after", "marker")], await _node.WaitForCapabilitiesAsync(c => c.Count > 0, "the valid event is stored"));
        Assert.Contains(_node.Logs.Lines, l => l.Contains($"Dropped a capability event on {Endpoint}: no '#' separates the command", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_original_addcapability_script_adds_and_removes_a_capability()
    {
        var (code, output) = await Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(Endpoint, "add_capability", "gpu", "hardware"));
        Assert.True(code == 0, output);
        await _node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "gpu is stored");

        (code, output) = await Pyzmq.RunAsync(Pyzmq.AddCapabilityScript(Endpoint, "remove_capability", "gpu", "hardware"));
        Assert.True(code == 0, output);
        await _node.WaitForCapabilitiesAsync(c => c.Count == 0, "gpu is removed again");
    }

    [Fact]
    public async Task Motey_capability_says_no_agent_listens_when_the_socket_file_is_missing()
    {
        var endpoint = "ipc://" + Path.Combine(_sockets.Path, "nobody.ipc");

        var code = await CapabilityEventPublisher.PublishAsync(endpoint, CapabilityEventPublisher.AddCommand, [Gpu], _output);

        Assert.Equal(1, code);
        Assert.Equal($"motey: cannot connect to {endpoint}: there is no socket file {IpcEndpoint.PathOf(endpoint)}; is the agent running, and is this "
            + "its [ZEROMQ] capability_engine_ipc_path?", _output.ToString().Trim());
    }

    [Fact]
    public async Task The_listener_stopped_removes_its_socket_file_and_starts_again_on_it()
    {
        var path = IpcEndpoint.PathOf(Endpoint);
        await _node.StopListenerAsync();
        Assert.False(File.Exists(path));

        await _node.StartListenerAsync();

        Assert.Equal(0, await CapabilityEventPublisher.PublishAsync(Endpoint, CapabilityEventPublisher.AddCommand, [Gpu], _output));
        await _node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "gpu is stored");
    }

    [Fact]
    public async Task A_second_node_on_the_same_socket_file_fails_to_start_naming_it()
    {
        await using var other = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string> { ["ZEROMQ:capability_engine_ipc_path"] = Endpoint });

        var error = await Assert.ThrowsAsync<PeerBindException>(other.StartListenerAsync);

        Assert.StartsWith($"cannot bind the capability event listener on {Endpoint}: another process listens on {IpcEndpoint.PathOf(Endpoint)}",
            error.Message, StringComparison.Ordinal);
        Assert.True(other.Logs.Contains("set [ZEROMQ] capability_engine_ipc_path to a free endpoint on this host"));
    }

    [Fact]
    public async Task With_publishers_from_anywhere_and_a_cluster_key_an_ipc_listener_stays_plain_and_says_why()
    {
        var clusterKey = Path.Combine(_keys.Path, "cluster.key");
        ClusterKey.Generate().Write(clusterKey, force: false);
        var endpoint = "ipc://" + Path.Combine(_sockets.Path, "any.ipc");
        await using var node = await PeerNode.CreateAsync(simulatedPlugin: false, new Dictionary<string, string>
        {
            ["ZEROMQ:capability_engine_ipc_path"] = endpoint,
            ["ZEROMQ:cluster_key"] = clusterKey,
            ["ZEROMQ:capability_publishers"] = "any",
        });
        await node.StartListenerAsync();

        Assert.Null(ClusterKey.ForCapabilityEvents(node.Settings.ZeroMq));  // so `motey capability` sends plain, too
        Assert.Equal(0, await CapabilityEventPublisher.PublishAsync(endpoint, CapabilityEventPublisher.AddCommand, [Gpu], _output));
        await node.WaitForCapabilitiesAsync(c => c.Contains(Gpu), "the plain event is applied");
        Assert.True(node.Logs.Contains($"[ZEROMQ] capability_publishers = any does not open {endpoint} to other hosts: a Unix socket is local"));
    }

    /// <summary>A ZMTP publisher that stays connected and sends frames as given, valid events or not.</summary>
    private sealed class IpcPublisher : IDisposable
    {
        private readonly System.Net.Sockets.Socket _socket;
        private readonly ZmtpConnection _connection;

        private IpcPublisher(System.Net.Sockets.Socket socket, ZmtpConnection connection)
        {
            _socket = socket;
            _connection = connection;
        }

        public static async Task<IpcPublisher> ConnectAsync(string endpoint)
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(IpcEndpoint.PathOf(endpoint)));
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var connection = await ZmtpConnection.OpenAsync(new System.Net.Sockets.NetworkStream(socket), ZmtpConnection.XPub, connected: true, 1024, deadline.Token);
            Assert.IsType<ZmtpSubscription>(await connection.ReceiveAsync(deadline.Token));
            return new IpcPublisher(socket, connection);
        }

        public ValueTask SendAsync(string text) => _connection.SendAsync([RawPeer.Utf8(text)], CancellationToken.None);

        public void Dispose() => _socket.Dispose();
    }
}
