using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// A SUB socket bound on an ipc endpoint: accepts any number of publishers (libzmq, pyzmq, `motey capability`) on its
/// Unix socket file, subscribes each to everything, and hands every message to <c>deliver</c>, in order per publisher.
/// Each connection runs its own loop: one that breaks ZMTP (or stays silent through the handshake, or goes over a limit)
/// is closed and logged (<see cref="DroppedConnections"/>), and the listener and the other publishers go on.
/// While <c>deliver</c> waits, that publisher's connection is not read: its messages wait in the kernel's buffer and
/// then in the publisher's own queue (up to its high-water mark; ZeroMQ pub/sub drops beyond that).
/// </summary>
internal sealed class ZmtpSubscriberListener : IAsyncDisposable
{
    /// <summary>Publishers connected at once at most; a host has a handful (hardware layers, scripts).</summary>
    public const int MaxConnections = 256;

    /// <summary>A connection that has not finished its greeting and READY by then is dropped (unless the caller says otherwise).</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly string _what;
    private readonly long _maxMessageBytes;
    private readonly Func<List<byte[]>, CancellationToken, ValueTask> _deliver;
    private readonly ILogger _log;
    private readonly DroppedConnections _drops;
    private readonly ITimer _flush;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly Task _accepting;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeProvider _time;
    private DateTimeOffset _lastAcceptWarning = DateTimeOffset.MinValue;
    private long _nextConnection;
    private int _disposed;

    private ZmtpSubscriberListener(Socket socket, string endpoint, string path, string what, long maxMessageBytes,
        Func<List<byte[]>, CancellationToken, ValueTask> deliver, ILogger log, TimeProvider time, TimeSpan handshakeTimeout)
    {
        _handshakeTimeout = handshakeTimeout;
        _socket = socket;
        Endpoint = endpoint;
        Path = path;
        _what = what;
        _maxMessageBytes = maxMessageBytes;
        _deliver = deliver;
        _log = log;
        _time = time;
        _drops = new DroppedConnections(log, what, endpoint, time);
        _flush = time.CreateTimer(_ => _drops.Flush(), null, DroppedConnections.Interval, DroppedConnections.Interval);
        _accepting = AcceptAsync();
    }

    public string Endpoint { get; }

    /// <summary>The socket file.</summary>
    public string Path { get; }

    /// <summary>Connections open now (for tests).</summary>
    public int Connections => _connections.Count;

    /// <summary>Drops logged so far, as <see cref="DroppedConnections.Warnings"/> (for tests).</summary>
    public int DropWarnings => _drops.Warnings;

    /// <summary>
    /// Binds <paramref name="endpoint"/> (<c>ipc://PATH</c>) as the <paramref name="what"/> and starts accepting; throws
    /// <see cref="PeerBindException"/> naming the endpoint and why when it cannot (see <see cref="IpcSocketFile.BindAsync"/>).
    /// </summary>
    public static async Task<ZmtpSubscriberListener> StartAsync(string endpoint, string what, long maxMessageBytes,
        Func<List<byte[]>, CancellationToken, ValueTask> deliver, ILogger log, TimeProvider? time = null, TimeSpan? handshakeTimeout = null)
    {
        string path;
        try
        {
            path = IpcEndpoint.PathOf(endpoint);
        }
        catch (FormatException e)
        {
            throw new PeerBindException($"cannot bind the {what} on {endpoint}: {e.Message}", e);
        }
        var socket = await IpcSocketFile.BindAsync(path, endpoint, what, log);
        return new ZmtpSubscriberListener(socket, endpoint, path, what, maxMessageBytes, deliver, log, time ?? TimeProvider.System,
            handshakeTimeout ?? DefaultHandshakeTimeout);
    }

    /// <summary>Stops accepting, closes every connection, and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync();
        // .NET removes the file of a socket it bound when it closes it, as libzmq does.
        _socket.Dispose();
        await _accepting;
        await Task.WhenAll(_connections.Values);
        await _flush.DisposeAsync();
        _drops.Flush(final: true);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        var acceptBackoff = TimeSpan.FromMilliseconds(50);
        await Task.Yield();  // the constructor returns at once
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of file descriptors, say: the listener waits, longer each time up to a second, and goes on; said once a minute.
                var now = _time.GetUtcNow();
                if (now - _lastAcceptWarning >= DroppedConnections.Interval)
                {
                    _lastAcceptWarning = now;
                    _log.LogWarning("The {Socket} on {Endpoint} could not accept a connection: {Error}; it tries again (said once a minute)",
                        _what, Endpoint, e.Message);
                }
                acceptBackoff = TimeSpan.FromTicks(Math.Min(acceptBackoff.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
                try
                {
                    await Task.Delay(acceptBackoff, _time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            acceptBackoff = TimeSpan.FromMilliseconds(50);
            var peer = PeerCredentials.Describe(client);
            if (_connections.Count >= MaxConnections)
            {
                client.Dispose();
                _drops.Dropped(peer, $"{MaxConnections} publishers are connected already");
                continue;
            }
            var id = Interlocked.Increment(ref _nextConnection);
            var serving = ServeAsync(client, peer);
            _connections[id] = serving;
            // Registered before it can unregister itself: a continuation added to a finished task runs now, after the add.
            _ = serving.ContinueWith(_ => _connections.TryRemove(id, out var _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client, string peer)
    {
        await Task.Yield();  // off the accept loop
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            var connection = await HandshakeAsync(stream);
            _log.LogDebug("A {Type} publisher ({Peer}, ZMTP 3.{Minor}) connected to the {Socket} on {Endpoint}",
                connection.PeerSocketType, peer, connection.PeerMinor, _what, Endpoint);
            while (await connection.ReceiveAsync(_stopping.Token) is { } incoming)
            {
                if (incoming is ZmtpMessage message) await _deliver(message.Frames, _stopping.Token);
            }
            _log.LogDebug("The publisher {Peer} disconnected from the {Socket} on {Endpoint}", peer, _what, Endpoint);
        }
        catch (ZmtpProtocolException e)
        {
            _drops.Dropped(peer, e.Message);
        }
        catch (EndOfStreamException)
        {
            // Connected and left without a word: a probe (another agent checking whether this socket is in use).
            _log.LogDebug("{Peer} connected to the {Socket} on {Endpoint} and left without a greeting", peer, _what, Endpoint);
        }
        catch (OperationCanceledException)
        {
            // The listener stops, or the agent behind the delivery does (its queue no longer takes events): not the peer's fault.
        }
        catch (IOException e)
        {
            // The peer reset the connection or vanished: its business, not a protocol error.
            _log.LogDebug("The connection from {Peer} to the {Socket} on {Endpoint} ended: {Error}", peer, _what, Endpoint, e.Message);
        }
        catch (Exception e)
        {
            // Whatever one connection does must not end the listener: say what happened, and close that connection only.
            _log.LogError(e, "The connection from {Peer} to the {Socket} on {Endpoint} failed: {Error}", peer, _what, Endpoint, e.Message);
        }
    }

    private async Task<ZmtpConnection> HandshakeAsync(NetworkStream stream)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_handshakeTimeout);
        try
        {
            var connection = await ZmtpConnection.OpenAsync(stream, ZmtpConnection.Sub, connected: false, _maxMessageBytes, deadline.Token);
            await connection.SubscribeAsync([], deadline.Token);  // everything: the listener filters nothing
            return connection;
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            throw new ZmtpProtocolException($"it did not complete the ZMTP greeting and READY within {_handshakeTimeout.TotalSeconds:0.#} s");
        }
    }
}
