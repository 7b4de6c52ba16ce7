using System.Buffers.Binary;
using System.Collections.Concurrent;
using NetMQ;
using NetMQ.Sockets;
using Motey.Host.Core.Nodes;

namespace Motey.Host.Peers;

/// <summary>
/// Sends requests to other nodes over one kept connection per endpoint (a DEALER socket, Linger 0): connecting and
/// the ZMTP handshake cost several round trips, a request on a connected socket one. Each request carries its own
/// id in front of the REQ envelope (<c>[id][empty][request]</c>, as libzmq's REQ_CORRELATE does); a REP socket or a
/// ROUTER replier sends the envelope back with the answer, so many requests share the connection and each gets its
/// own answer, and an answer that comes after its request gave up matches nothing and is dropped. A timeout retires
/// the connection: later requests get a fresh one, and the old one is closed once nothing waits on it. A peer that
/// restarts is reached again by the socket's own reconnect. Connections unused for <see cref="IdleTimeout"/> are
/// closed (a connection opened for a one-off request, <c>keep: false</c>, as soon as it is answered when nothing else
/// used it meanwhile), and at most <see cref="MaxIdleConnections"/> unused ones are kept: with the cluster's size given, four per
/// known peer (one per endpoint) and a margin, so a deploy, status or terminate never closes the capability
/// connections placement keeps using. At most <see cref="MaxConnections"/> are open at once (NetMQ's socket limit less
/// what the rest of the agent uses, <see cref="NetMqLimits"/>): a request that needs a connection beyond it, or one NetMQ
/// or the system refuses for lack of sockets or descriptors, waits for one to close, in turn, within its own timeout;
/// when none closes in time it fails with a <see cref="LocalRequestException"/> that names this node's limit, never as
/// the peer's failure.
/// One poller thread owns every socket (NetMQ sockets are not thread-safe); callers only wait on a task, so a
/// thousand requests to dead nodes cost no thread-pool thread while they wait out their timeouts.
/// With a <see cref="ClusterKey"/> every connection is a CURVE client: it names the cluster's public key as the server's
/// and shows a key pair of its own, made fresh for this requester (no server checks it: NetMQ has no ZAP). A peer with
/// another key, or none, never completes the handshake: its requests time out like those to a dead node.
/// </summary>
internal sealed class PeerRequester : IDisposable
{
    /// <summary>
    /// Longer than the fence interval (10 s) and far longer than the reconcile interval (1 s), so the connections to the
    /// nodes that run this node's instances stay open; short enough that the connections of finished placements (up to
    /// four per peer placed on, each with NetMQ's buffers and three descriptors) do not pile up: with 60 s, forty
    /// placements among a thousand nodes held ~250 connections for a minute and more.
    /// </summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(15);
    public const int DefaultMaxIdleConnections = 256;

    private readonly NetMQPoller _poller = new();
    private readonly NetMQTimer _sweep;
    private readonly NetMQTimer _slotRetry;  // runs while requests wait for a connection slot
    private readonly Queue<Exchange> _waitingForSlot = new();  // poller thread only, in the order they came
    private readonly Func<int>? _clusterSize;
    private readonly int _minIdleConnections;
    private readonly Dictionary<string, Connection> _current = new(StringComparer.Ordinal);  // poller thread only
    private readonly HashSet<Connection> _retired = [];  // poller thread only: closed when their last request ends
    private readonly ConcurrentDictionary<Exchange, byte> _live = new();  // every request not yet ended, so Dispose can fail it
    private readonly Curve? _curve;
    private int _disposed;

    /// <summary>
    /// A requester speaking plain ZeroMQ, or CURVE with <paramref name="key"/>. <paramref name="clusterSize"/> (the
    /// number of known peers, read when connections are about to be closed) lets the idle cap follow the cluster.
    /// </summary>
    public PeerRequester(ClusterKey? key = null, Func<int>? clusterSize = null)
        : this(DefaultIdleTimeout, DefaultMaxIdleConnections, key, clusterSize: clusterSize)
    {
    }

    /// <summary>
    /// A requester that closes connections unused for <paramref name="idleTimeout"/>, keeps at least
    /// <paramref name="maxIdleConnections"/> unused ones, and holds at most <paramref name="maxConnections"/>
    /// (<see cref="NetMqLimits.ConnectionLimit"/> when null). Tests use small values.
    /// </summary>
    internal PeerRequester(TimeSpan idleTimeout, int maxIdleConnections, ClusterKey? key = null, int? maxConnections = null, Func<int>? clusterSize = null)
    {
        IdleTimeout = idleTimeout;
        _minIdleConnections = maxIdleConnections;
        _clusterSize = clusterSize;
        MaxConnections = maxConnections ?? NetMqLimits.ConnectionLimit;
        _curve = key is null ? null : new Curve(key.PublicKey, new NetMQCertificate());
        _sweep = new NetMQTimer(TimeSpan.FromTicks(Math.Max(idleTimeout.Ticks / 2, TimeSpan.TicksPerMillisecond)));
        _sweep.Elapsed += (_, _) => CloseIdle();
        _poller.Add(_sweep);
        _slotRetry = new NetMQTimer(SlotRetryInterval) { Enable = false };
        _slotRetry.Elapsed += (_, _) => ServeWaitingForSlot();
        _poller.Add(_slotRetry);
        _poller.RunAsync("motey-peer-requests", isBackgroundThread: true);
    }

    /// <summary>
    /// How soon a connection that could not connect, or lost its peer, tries again; each failed try doubles the wait, up
    /// to <see cref="ReconnectIntervalMax"/>. NetMQ's default (100 ms, no backoff) made every request to a dead node try
    /// about ten connections a second until it timed out: with 200 dead nodes among 1,000, placements (which ask the
    /// silent ones again, one request each at a time) cost the agent ~1,000 refused connects a second. A live node is
    /// connected at once (the first try does not wait), and one that restarts is found again within the interval.
    /// </summary>
    public static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two tries to connect (see <see cref="ReconnectInterval"/>).</summary>
    public static readonly TimeSpan ReconnectIntervalMax = TimeSpan.FromSeconds(2);

    /// <summary>How often requests waiting for a connection slot try again (besides whenever a connection closes).</summary>
    private static readonly TimeSpan SlotRetryInterval = TimeSpan.FromMilliseconds(20);

    public TimeSpan IdleTimeout { get; }

    /// <summary>At most this many connections are open at once, retired ones included.</summary>
    public int MaxConnections { get; }

    /// <summary>
    /// How many unused connections are kept: the configured floor, or four per known peer and a margin when that is
    /// more (never above <see cref="MaxConnections"/>). Reads the cluster's size: call it when about to close, not per request.
    /// </summary>
    public int MaxIdleConnections =>
        Math.Min(MaxConnections, _clusterSize is null ? _minIdleConnections : Math.Max(_minIdleConnections, 4 * _clusterSize() + 64));

    /// <summary>True when requests go out as CURVE clients of the cluster key.</summary>
    public bool Secured => _curve is not null;

    /// <summary>Open connections, retired ones included (poller thread; for tests).</summary>
    internal Task<int> CountConnectionsAsync() => OnPollerAsync(() => Open);

    private int Open => _current.Count + _retired.Count;

    /// <summary>
    /// Sends <paramref name="request"/> as one frame to <paramref name="endpoint"/> and returns the one-frame reply.
    /// Throws <see cref="TimeoutException"/> after <paramref name="timeout"/>, <see cref="OperationCanceledException"/>
    /// on cancellation, <see cref="PeerException"/> for a reply that is not one UTF-8 frame, and
    /// <see cref="LocalRequestException"/> when the request never left because no connection could be opened in time.
    /// </summary>
    /// <param name="keep">
    /// False for a one-off request (a direct check of a node this node may never ask again): a connection opened for it is
    /// closed once it is answered, unless another request used it meanwhile. A joiner's check of a thousand members
    /// otherwise left a thousand idle connections open for the idle timeout.
    /// </param>
    public async Task<string> RequestAsync(string endpoint, string request, TimeSpan timeout, CancellationToken cancellationToken, bool keep = true)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var exchange = new Exchange(endpoint, request, keep);
        var timedOut = false;
        _live[exchange] = 0;
        try
        {
            // Checked again once registered: Dispose fails what it finds, and must not miss this one.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (!Post(() => Send(exchange))) throw new ObjectDisposedException(nameof(PeerRequester), "the agent is stopping");
            return await exchange.Reply.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException) when (!exchange.Sent)
        {
            // Never sent: the peer was not asked, so this says nothing about it.
            throw new LocalRequestException(
                $"this node could not send its request to {endpoint} within {timeout.TotalSeconds:0.###} s: {exchange.SlotProblem ?? "the request waited its turn for a connection"}");
        }
        catch (TimeoutException)
        {
            timedOut = true;
            throw;
        }
        finally
        {
            // Answered or failed on the poller: nothing left to do. Else a Send still queued skips the request,
            // and one already sent is forgotten, so its late answer matches nothing.
            _live.TryRemove(exchange, out _);
            if (exchange.Reply.TrySetCanceled(CancellationToken.None)) Post(() => Abandon(exchange, timedOut));
        }
    }

    /// <summary>
    /// Opens the connection to <paramref name="endpoint"/> for a request expected soon, so its TCP and ZMTP handshakes
    /// are done when the request comes. Nothing happens when it is open already, when requests wait for a connection
    /// slot (they come first), or when no slot is free; a connection that cannot be opened is left to the request,
    /// which says why. Unused, it closes after <see cref="IdleTimeout"/> like any other.
    /// </summary>
    public void Warm(string endpoint)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        Post(() =>
        {
            // Never at the cost of a connection already open: a guess does not close what real requests may use again.
            if (_current.ContainsKey(endpoint) || _waitingForSlot.Count > 0 || Open >= MaxConnections) return;
            try
            {
                Connect(endpoint);
            }
            catch (Exception e) when (e is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
            {
                // the request that follows opens it again and fails with the reason
            }
        });
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _poller.Dispose();  // stops the poller thread and waits for it; the sockets are ours to close now
        var stopping = new ObjectDisposedException(nameof(PeerRequester), "the agent is stopping");
        foreach (var exchange in _live.Keys) exchange.Reply.TrySetException(stopping);  // sent or still queued for the poller
        foreach (var connection in _current.Values.Concat(_retired)) connection.Close(stopping);
        _current.Clear();
        _retired.Clear();
    }

    /// <summary>Runs <paramref name="action"/> on the poller thread; false when the requester is stopping (Dispose fails whatever is still open).</summary>
    private bool Post(Action action)
    {
        try
        {
            _poller.Run(action);
            return true;
        }
        catch (Exception e) when (e is ObjectDisposedException or NetMQException)
        {
            return false;
        }
    }

    private Task<T> OnPollerAsync<T>(Func<T> read)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!Post(() => result.TrySetResult(read()))) result.TrySetException(new ObjectDisposedException(nameof(PeerRequester)));
        return result.Task;
    }

    private void Send(Exchange exchange)
    {
        if (exchange.Reply.Task.IsCompleted) return;  // timed out or cancelled before its turn came
        if (!_current.TryGetValue(exchange.Endpoint, out var connection))
        {
            // A new connection waits behind the requests already waiting for one: first come, first served.
            if (_waitingForSlot.Count > 0 || !TryOpen(exchange, out connection))
            {
                WaitForSlot(exchange);
                return;
            }
            if (connection is null) return;  // the endpoint cannot be used at all: failed already
        }
        SendOn(connection, exchange);
    }

    private void SendOn(Connection connection, Exchange exchange)
    {
        if (connection.TrySend(exchange))
        {
            exchange.Sent = true;
            if (exchange.Keep) connection.OneOff = false;  // used for more than a one-off: kept like any other
            return;
        }
        exchange.Reply.TrySetException(new PeerException($"could not queue the request to {exchange.Endpoint}"));
        Retire(connection);
    }

    /// <summary>
    /// Opens a connection for the exchange's endpoint when there is room (closing unused ones as needed). False when
    /// this node has no room or no socket for it now (why is kept on the exchange); true with a null connection when
    /// the endpoint itself cannot be used (the exchange has failed, saying why).
    /// </summary>
    private bool TryOpen(Exchange exchange, out Connection? connection)
    {
        connection = null;
        CloseLeastRecentlyUsed();
        if (Open >= MaxConnections)
        {
            exchange.SlotProblem = $"it holds its limit of {MaxConnections} peer connections, each waiting for an answer";
            return false;
        }
        try
        {
            connection = Connect(exchange.Endpoint);
            connection.OneOff = !exchange.Keep;
        }
        catch (NetMQException e) when (e.ErrorCode == ErrorCode.TooManyOpenSockets)
        {
            exchange.SlotProblem = $"NetMQ refused a new socket (the limit of this process, {NetMQConfig.MaxSockets} sockets, is reached)";
            return false;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.TooManyOpenSockets)
        {
            exchange.SlotProblem = $"the process is out of file descriptors ({e.Message})";
            return false;
        }
        catch (Exception e) when (e is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
        {
            exchange.Reply.TrySetException(new PeerException($"cannot reach {exchange.Endpoint}: {e.Message}", e));
            return true;
        }
        return true;
    }

    /// <summary>A new connection to <paramref name="endpoint"/>, polled and current for it (poller thread).</summary>
    private Connection Connect(string endpoint)
    {
        var connection = new Connection(endpoint, OnReply, _curve);
        _poller.Add(connection.Socket);
        _current[endpoint] = connection;
        return connection;
    }

    private void WaitForSlot(Exchange exchange)
    {
        exchange.SlotProblem ??= "the request waited its turn for a connection";
        _waitingForSlot.Enqueue(exchange);
        _slotRetry.Enable = true;
    }

    /// <summary>Sends what waits for a connection, in turn, as long as connections can be opened.</summary>
    private void ServeWaitingForSlot()
    {
        while (_waitingForSlot.TryPeek(out var next))
        {
            if (next.Reply.Task.IsCompleted)
            {
                _waitingForSlot.Dequeue();  // its caller gave up meanwhile
                continue;
            }
            if (!_current.TryGetValue(next.Endpoint, out var connection))
            {
                if (!TryOpen(next, out connection)) break;
                if (connection is null)
                {
                    _waitingForSlot.Dequeue();
                    continue;
                }
            }
            _waitingForSlot.Dequeue();
            SendOn(connection, next);
        }
        _slotRetry.Enable = _waitingForSlot.Count > 0;
    }

    /// <summary>The caller stopped waiting. After a timeout the connection is suspect (a peer that froze, or went away while the request was on the wire): it is retired.</summary>
    private void Abandon(Exchange exchange, bool timedOut)
    {
        if (exchange.Connection is not { } connection) return;  // never sent
        connection.Forget(exchange);
        if (timedOut || connection.OneOff) Retire(connection);
        else if (connection.Retired) CloseIfDone(connection);
    }

    private void OnReply(Connection connection)
    {
        connection.ReceiveAll();
        if (connection.Retired) CloseIfDone(connection);
        else if (connection.OneOff && connection.Waiting == 0) Retire(connection);  // its one-off request is answered
    }

    private void Retire(Connection connection)
    {
        if (connection.Retired)
        {
            // Retired by an earlier timeout: it closes when its last request ends, which may be this one. (Returning here
            // without looking left it open for good once its last request timed out: one leaked socket per dead peer
            // and request timeout while placements kept asking it, until NetMQ's socket limit refused every new one.)
            CloseIfDone(connection);
            return;
        }
        connection.Retired = true;
        if (_current.TryGetValue(connection.Endpoint, out var current) && current == connection) _current.Remove(connection.Endpoint);
        _retired.Add(connection);
        CloseIfDone(connection);
    }

    private void CloseIfDone(Connection connection)
    {
        if (connection.Waiting > 0) return;
        _retired.Remove(connection);
        Close(connection);
    }

    private void CloseIdle()
    {
        var now = Environment.TickCount64;
        var idle = _current.Values.Where(c => c.Waiting == 0 && now - c.LastUsed >= (long)IdleTimeout.TotalMilliseconds).ToList();
        foreach (var connection in idle)
        {
            _current.Remove(connection.Endpoint);
            Close(connection);
        }
    }

    /// <summary>
    /// Makes room for one more connection: the unused ones beyond <see cref="MaxIdleConnections"/> go, the least
    /// recently used first, and more of them when <see cref="MaxConnections"/> would be exceeded.
    /// </summary>
    private void CloseLeastRecentlyUsed()
    {
        var idleCount = _current.Values.Count(c => c.Waiting == 0);
        var beyondCap = Open + 1 - MaxConnections;
        if (idleCount < _minIdleConnections && beyondCap <= 0) return;  // the cheap answer for the usual case
        var excess = Math.Max(idleCount + 1 - MaxIdleConnections, beyondCap);
        if (excess <= 0) return;
        foreach (var connection in _current.Values.Where(c => c.Waiting == 0).OrderBy(c => c.LastUsed).Take(excess).ToList())
        {
            _current.Remove(connection.Endpoint);
            Close(connection);
        }
    }

    private void Close(Connection connection)
    {
        if (_poller.IsRunning) _poller.Remove(connection.Socket);
        connection.Close(new PeerException($"the connection to {connection.Endpoint} was closed"));
        if (_waitingForSlot.Count > 0) _slotRetry.Enable = true;  // a slot is free: served from the timer, not from inside this close
    }

    /// <summary>One kept connection: a DEALER socket and the requests on it that still wait for their answer.</summary>
    private sealed class Connection
    {
        private readonly Dictionary<uint, Exchange> _waiting = [];
        private uint _lastId;

        public Connection(string endpoint, Action<Connection> onReply, Curve? curve)
        {
            Endpoint = endpoint;
            Socket = new DealerSocket();
            try
            {
                Socket.Options.Linger = TimeSpan.Zero;
                Socket.Options.ReconnectInterval = ReconnectInterval;
                Socket.Options.ReconnectIntervalMax = ReconnectIntervalMax;
                if (curve is not null)
                {
                    Socket.Options.CurveServerKey = curve.ServerKey;
                    Socket.Options.CurveCertificate = curve.Client;
                }
                Socket.Options.SendHighWatermark = 0;  // no limit: what queues is bounded by the callers waiting
                Socket.ReceiveReady += (_, _) => onReply(this);
                Socket.Connect(endpoint);
            }
            catch
            {
                Socket.Dispose();
                throw;
            }
            LastUsed = Environment.TickCount64;
        }

        public string Endpoint { get; }
        public DealerSocket Socket { get; }
        public bool Retired { get; set; }

        /// <summary>Opened for a one-off request and used by no other: closed once nothing waits on it.</summary>
        public bool OneOff { get; set; }
        public long LastUsed { get; private set; }
        public int Waiting => _waiting.Count;

        /// <summary>Queues <c>[id][empty][request]</c>: the pipe exists from Connect on, so this works before the peer answers the connection.</summary>
        public bool TrySend(Exchange exchange)
        {
            var id = unchecked(++_lastId);
            var message = new NetMQMessage(3);
            var idFrame = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(idFrame, id);
            message.Append(idFrame);
            message.AppendEmptyFrame();
            message.Append(Frames.Encode(exchange.Request));
            if (!Socket.TrySendMultipartMessage(message)) return false;
            _waiting[id] = exchange;
            (exchange.Connection, exchange.Id) = (this, id);
            LastUsed = Environment.TickCount64;
            return true;
        }

        public void Forget(Exchange exchange) => _waiting.Remove(exchange.Id);

        /// <summary>
        /// Hands each answer to its request. An answer without our envelope (no id, no delimiter), as a REQ socket
        /// would, and one whose request gave up, are dropped: the request they might belong to times out.
        /// </summary>
        public void ReceiveAll()
        {
            var frames = new List<byte[]>();
            while (Socket.TryReceiveMultipartBytes(ref frames))
            {
                LastUsed = Environment.TickCount64;
                if (frames is [{ Length: 4 } idFrame, { Length: 0 }, ..]
                    && _waiting.Remove(BinaryPrimitives.ReadUInt32BigEndian(idFrame), out var exchange))
                {
                    var text = Frames.ReadText(frames[2..], out var problem);
                    if (text is not null) exchange.Reply.TrySetResult(text);
                    else exchange.Reply.TrySetException(new PeerException($"unreadable answer from {Endpoint}: {problem}"));
                }
                frames = [];
            }
        }

        public void Close(Exception reason)
        {
            foreach (var exchange in _waiting.Values) exchange.Reply.TrySetException(reason);
            _waiting.Clear();
            Socket.Dispose();
        }
    }

    /// <summary>The server key every connection names and the client pair it shows.</summary>
    private sealed record Curve(byte[] ServerKey, NetMQCertificate Client);

    private sealed class Exchange(string endpoint, string request, bool keep)
    {
        public string Endpoint { get; } = endpoint;
        public string Request { get; } = request;
        public bool Keep { get; } = keep;
        public TaskCompletionSource<string> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Connection? Connection { get; set; }
        public uint Id { get; set; }

        /// <summary>Set on the poller thread once the request is on a connection; read by the caller after a timeout.</summary>
        public volatile bool Sent;

        /// <summary>Why it waits for a connection slot, when it does.</summary>
        public volatile string? SlotProblem;
    }
}
