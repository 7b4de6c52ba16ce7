using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Motey.Host.Peers;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>
/// The ipc listener on a real Unix socket file, with our own publisher and with clients that misbehave: what reaches
/// the delivery, what the log says, and what happens to the socket file.
/// </summary>
public sealed class ZmtpSubscriberListenerTests : IAsyncLifetime
{
    private const string What = "capability event listener";
    private readonly TempDirectory _folder = new("motey-ipc-");
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentQueue<string> _delivered = new();
    private readonly List<ZmtpSubscriberListener> _listeners = [];

    public ZmtpSubscriberListenerTests() => _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_logs));

    private string SocketPath => Path.Combine(_folder.Path, "events.ipc");
    private string Endpoint => "ipc://" + SocketPath;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var listener in _listeners) await listener.DisposeAsync();
        _loggers.Dispose();
        _folder.Dispose();
    }

    private async Task<ZmtpSubscriberListener> StartAsync(string? endpoint = null, long limit = PeerSockets.MaxMessageBytes, TimeSpan? handshakeTimeout = null,
        Func<List<byte[]>, CancellationToken, ValueTask>? deliver = null)
    {
        var listener = await ZmtpSubscriberListener.StartAsync(endpoint ?? Endpoint, What, limit, deliver ?? Deliver, _loggers.CreateLogger("ipc"),
            handshakeTimeout: handshakeTimeout);
        _listeners.Add(listener);
        return listener;
    }

    private ValueTask Deliver(List<byte[]> frames, CancellationToken cancellationToken)
    {
        _delivered.Enqueue(string.Join("|", frames.Select(Encoding.UTF8.GetString)));
        return ValueTask.CompletedTask;
    }

    private Task<ZmtpPublisher.Failure?> PublishAsync(string text, TimeSpan? wait = null) =>
        ZmtpPublisher.PublishAsync(Endpoint, Encoding.UTF8.GetBytes(text), PeerSockets.MaxMessageBytes, wait ?? TimeSpan.FromSeconds(10));

    private Task WaitDeliveredAsync(string text) =>
        Wait.UntilAsync(() => _delivered.Contains(text), $"'{text}' is delivered", detail: () => string.Join("\n", _logs.Lines));

    private static async Task<Socket> ConnectRawAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>Reads until the listener closes the connection (what a dropped client sees); fails after a deadline.</summary>
    private static async Task ReadUntilClosedAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
        {
        }
    }

    [Fact]
    public async Task A_publisher_delivers_its_message_once_the_listener_has_subscribed()
    {
        await StartAsync();

        Assert.Null(await PublishAsync("add_capability#[]"));

        await WaitDeliveredAsync("add_capability#[]");
    }

    [Fact]
    public async Task Many_publishers_at_once_are_all_heard_each_in_its_own_order()
    {
        await StartAsync();
        const int Publishers = 20, Messages = 50;

        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            using var socket = await ConnectRawAsync(SocketPath);
            await using var stream = new NetworkStream(socket);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var connection = await ZmtpConnection.OpenAsync(stream, ZmtpConnection.XPub, connected: true, 1024, deadline.Token);
            Assert.IsType<ZmtpSubscription>(await connection.ReceiveAsync(deadline.Token));
            for (var m = 0; m < Messages; m++) await connection.SendAsync([Encoding.UTF8.GetBytes($"p{p}"), Encoding.UTF8.GetBytes($"{m}")], deadline.Token);
        })));

        await Wait.UntilAsync(() => _delivered.Count == Publishers * Messages, $"all {Publishers * Messages} messages are delivered");
        foreach (var publisher in _delivered.Select(d => d.Split('|')).GroupBy(d => d[0]))
            Assert.Equal(Enumerable.Range(0, Messages), publisher.Select(d => int.Parse(d[1])));
    }

    [Fact]
    public async Task A_client_that_is_not_zeromq_is_dropped_and_logged_and_the_listener_goes_on()
    {
        await StartAsync();
        using var garbage = await ConnectRawAsync(SocketPath);

        await garbage.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await ReadUntilClosedAsync(garbage);

        var warning = Assert.Single(_logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains($"Dropped a connection from pid {Environment.ProcessId} (", warning, StringComparison.Ordinal);
        Assert.Contains($"to the {What} on {Endpoint}: not ZeroMQ: its first octet is 0x47", warning, StringComparison.Ordinal);
        Assert.Null(await PublishAsync("after"));
        await WaitDeliveredAsync("after");
    }

    [Fact]
    public async Task A_flood_of_bad_clients_costs_one_warning_at_once_and_one_summary()
    {
        var listener = await StartAsync();

        for (var i = 0; i < 50; i++)
        {
            using var garbage = await ConnectRawAsync(SocketPath);
            await garbage.SendAsync(i % 2 == 0 ? new byte[64] : RawZmtp.Greeting(mechanism: "CURVE"));
            await ReadUntilClosedAsync(garbage);
        }
        Assert.Equal(1, listener.DropWarnings);
        _listeners.Remove(listener);
        await listener.DisposeAsync();

        var warnings = _logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains($"Dropped 49 more connections to the {What} on {Endpoint}", warnings[1], StringComparison.Ordinal);
        Assert.Contains("it asks for the CURVE security mechanism", warnings[1], StringComparison.Ordinal);
        Assert.Contains("not ZeroMQ: its first octet is 0x00", warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_says_nothing_is_dropped_after_the_handshake_deadline()
    {
        await StartAsync(handshakeTimeout: TimeSpan.FromMilliseconds(300));
        using var silent = await ConnectRawAsync(SocketPath);

        await ReadUntilClosedAsync(silent);

        Assert.Contains(_logs.Lines, l => l.Contains("it did not complete the ZMTP greeting and READY within 0.3 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_message_over_the_limit_drops_that_publisher_only()
    {
        await StartAsync(limit: 1024);

        var failure = await ZmtpPublisher.PublishAsync(Endpoint, new byte[2000], 1024 * 1024, TimeSpan.FromSeconds(10));
        Assert.Null(failure);  // sent: the listener reads the frame header and drops the connection
        await Wait.UntilAsync(() => _logs.Contains("a frame declares 2000 octets, over this socket's limit of 1024"), "the drop is logged");

        Assert.Null(await PublishAsync("small"));
        await WaitDeliveredAsync("small");
        Assert.DoesNotContain(_delivered, d => d.Length == 2000);
    }

    [Fact]
    public async Task While_delivery_waits_a_publisher_is_not_read_and_nothing_is_lost()
    {
        using var gate = new SemaphoreSlim(0);
        await StartAsync(deliver: async (frames, token) =>
        {
            await gate.WaitAsync(token);
            await Deliver(frames, token);
        });
        using var socket = await ConnectRawAsync(SocketPath);
        await using var stream = new NetworkStream(socket);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var connection = await ZmtpConnection.OpenAsync(stream, ZmtpConnection.XPub, connected: true, 1024, deadline.Token);
        await connection.ReceiveAsync(deadline.Token);

        // More than the kernel's socket buffer holds while nobody reads: the sender waits too, as a libzmq PUB would queue.
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 5000; i++) await connection.SendAsync([Encoding.UTF8.GetBytes($"{i}")], deadline.Token);
        });
        await Wait.UntilAsync(() => gate.CurrentCount == 0 && !sending.IsCompleted, "the sender is under way");
        Assert.Empty(_delivered);
        gate.Release(5000);
        await sending;

        await Wait.UntilAsync(() => _delivered.Count == 5000, "all 5000 messages are delivered once delivery goes on");
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"{i}"), _delivered);
    }

    [Fact]
    public async Task The_socket_file_lets_only_the_agents_user_and_group_connect_and_is_gone_after_stop()
    {
        var listener = await StartAsync();

        Assert.Equal(IpcSocketFile.Mode, File.GetUnixFileMode(SocketPath));
        _listeners.Remove(listener);
        await listener.DisposeAsync();

        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task A_stale_socket_file_from_a_killed_process_is_removed_and_the_path_bound_again()
    {
        MakeStaleSocket(SocketPath);
        Assert.Equal(IpcSocketFile.State.Stale, await IpcSocketFile.ProbeAsync(SocketPath));

        await StartAsync();

        Assert.Contains(_logs.Lines, l => l.Contains($"Removed the stale socket file {SocketPath}: nothing listened on it", StringComparison.Ordinal));
        Assert.Null(await PublishAsync("after the stale file"));
        await WaitDeliveredAsync("after the stale file");
    }

    [Fact]
    public async Task A_second_listener_on_a_path_in_use_is_refused_and_the_first_keeps_listening()
    {
        await StartAsync();

        var error = await Assert.ThrowsAsync<PeerBindException>(() => StartAsync());

        Assert.Equal($"cannot bind the {What} on {Endpoint}: another process listens on {SocketPath} (another agent, or the original Motey's "
            + "capability engine?); stop it, or give this agent another socket file", error.Message);
        Assert.Null(await PublishAsync("still here"));
        await WaitDeliveredAsync("still here");
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal));  // the probe is not a protocol error
    }

    [Fact]
    public async Task A_path_holding_a_file_or_a_folder_is_refused_and_left_as_it_was()
    {
        File.WriteAllText(SocketPath, "precious");
        var folder = Path.Combine(_folder.Path, "folder.ipc");
        Directory.CreateDirectory(folder);

        var file = await Assert.ThrowsAsync<PeerBindException>(() => StartAsync());
        var directory = await Assert.ThrowsAsync<PeerBindException>(() => StartAsync("ipc://" + folder));

        Assert.Equal($"cannot bind the {What} on {Endpoint}: {SocketPath} exists and is not a socket; it is left alone: remove it, or give this agent "
            + "another socket file", file.Message);
        Assert.Contains($"{folder} exists and is not a socket", directory.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(SocketPath));
        Assert.True(Directory.Exists(folder));
    }

    [Theory]
    [InlineData("ipc:///no/such/folder/events.ipc", "the folder /no/such/folder does not exist")]
    [InlineData("ipc://@motey", ": it is an abstract Unix socket, which has no file and so no permissions")]
    [InlineData("ipc://", ": it names no socket file")]
    public async Task An_endpoint_that_cannot_be_a_socket_file_is_refused_saying_why(string endpoint, string reason)
    {
        var error = await Assert.ThrowsAsync<PeerBindException>(() => StartAsync(endpoint));

        Assert.StartsWith($"cannot bind the {What} on {endpoint}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_longer_than_a_unix_socket_allows_is_refused_naming_its_length()
    {
        var endpoint = "ipc://" + Path.Combine(_folder.Path, new string('x', 120));

        var error = await Assert.ThrowsAsync<PeerBindException>(() => StartAsync(endpoint));

        Assert.Contains("over the 107 a Unix socket's path may have", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_publisher_says_why_it_could_not_send()
    {
        var missing = await PublishAsync("x");
        MakeStaleSocket(SocketPath);
        var stale = await PublishAsync("x");
        File.Delete(SocketPath);
        using var mute = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);  // accepts, never greets
        mute.Bind(new UnixDomainSocketEndPoint(SocketPath));
        mute.Listen();
        var silent = await PublishAsync("x", TimeSpan.FromMilliseconds(500));

        Assert.Equal(new ZmtpPublisher.Failure($"there is no socket file {SocketPath}", ZmtpPublisher.FailureKind.NoListener), missing);
        Assert.Equal(new ZmtpPublisher.Failure($"nothing listens on {SocketPath} (a socket file left by a process that was killed, or not a socket)",
            ZmtpPublisher.FailureKind.NoListener), stale);
        Assert.Equal(new ZmtpPublisher.Failure("no subscription arrived", ZmtpPublisher.FailureKind.NoSubscription), silent);
    }

    /// <summary>A socket file nobody listens on, as a killed process leaves it: bound, then renamed away from the name .NET removes on close.</summary>
    internal static void MakeStaleSocket(string path)
    {
        var bound = path + ".bound";
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, path);
        }
        Assert.True(File.Exists(path));
    }
}
