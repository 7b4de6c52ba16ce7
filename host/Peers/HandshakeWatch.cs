using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using AsyncIO;
using NetMQ;
using NetMQ.Monitoring;

namespace Motey.Host.Peers;

/// <summary>
/// Finds the connections a bound CURVE socket refused and tells <see cref="HandshakeRefusals"/>. NetMQ 4.0.4.5 reports no
/// handshake failure (libzmq's HANDSHAKE_FAILED_* events and ZAP are missing); its socket monitor says only that a
/// connection was accepted and, later, disconnected. So the watch tells a refused connection from a trusted one by what
/// the trusted one leaves behind:
/// <list type="bullet">
/// <item>on a ROUTER, a <see cref="DisconnectMarker"/> message: NetMQ queues the socket's <c>DisconnectMessage</c> when a
/// connection that completed its handshake ends (exact);</item>
/// <item>on a SUB (which has no disconnect message), an event that arrived while the connection was open: every trusted
/// publisher we know (`motey capability`) sends one, and a connection open longer than <see cref="Grace"/> is taken as
/// trusted (a refused handshake ends within milliseconds). A trusted publisher that connects and leaves at once without
/// sending is counted as refused, and a refusal within a second of a trusted event is missed; a ZeroMQ peer without the
/// key reconnects every 100 ms, so it is seen on a later attempt.</item>
/// </list>
/// Runs on the socket's poller thread (the monitor and the timer are on the same poller), like the socket itself.
/// </summary>
internal sealed class HandshakeWatch : IDisposable
{
    /// <summary>How long a disconnect waits for its trusted trace (both travel through different queues of the same poller).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MarkerLifetime = TimeSpan.FromSeconds(5);
    private const long DeliveryStep = 10;
    private static int s_monitors;

    private readonly string _name;
    private readonly string _endpoint;
    private readonly HandshakeRefusals _refusals;
    private readonly NetMQMonitor _monitor;
    private readonly NetMQTimer _timer;
    private readonly NetMQPoller _poller;
    private readonly Dictionary<AsyncSocket, (long At, IPEndPoint? Remote)> _open = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<(long At, long AcceptedAt, IPEndPoint? Remote)> _closed = new();
    private readonly Queue<long> _trustedCloses = new();
    private readonly Queue<long> _deliveries = new();  // at most one per DeliveryStep, none older than MarkerLifetime
    private readonly TrustTrace _trace;
    private long _lastDelivery = long.MinValue / 2;
    private bool _disposed;

    /// <summary>Watches <paramref name="socket"/>, bound as <paramref name="name"/> on <paramref name="endpoint"/>, on its own <paramref name="poller"/>.</summary>
    public HandshakeWatch(NetMQSocket socket, NetMQPoller poller, string name, string endpoint, HandshakeRefusals refusals, TrustTrace trace)
    {
        _trace = trace;
        _name = name;
        _endpoint = endpoint;
        _refusals = refusals;
        _poller = poller;
        _monitor = new NetMQMonitor(socket, $"inproc://motey-handshakes-{Interlocked.Increment(ref s_monitors)}",
            SocketEvents.Accepted | SocketEvents.Disconnected);
        _monitor.EventReceived += OnEvent;
        _monitor.AttachToPoller(poller);
        _timer = new NetMQTimer(Tick);
        _timer.Elapsed += (_, _) => Settle();
        poller.Add(_timer);
    }

    /// <summary>A ROUTER's <c>DisconnectMessage</c>: random per process, so no peer can send it on purpose and be taken for its own goodbye.</summary>
    public static byte[] DisconnectMarker { get; } = RandomNumberGenerator.GetBytes(16);

    /// <summary>True for the frames a ROUTER receives when a trusted connection ends: <c>[identity][marker]</c>.</summary>
    public static bool IsDisconnect(NetMQMessage message) =>
        message.FrameCount == 2 && message[1].BufferSize == DisconnectMarker.Length && message[1].ToByteArray().AsSpan().SequenceEqual(DisconnectMarker);

    /// <summary>A trusted connection ended (ROUTER: its <see cref="DisconnectMarker"/> arrived).</summary>
    public void TrustedClose() => _trustedCloses.Enqueue(Environment.TickCount64);

    /// <summary>A message arrived (SUB): whatever connection was open at the time completed its handshake.</summary>
    public void Delivered()
    {
        var now = Environment.TickCount64;
        if (now - _lastDelivery < DeliveryStep) return;
        _deliveries.Enqueue(now);
        _lastDelivery = now;
    }

    /// <summary>Stops watching; call before the poller is disposed. Refusals still waiting for their verdict are dropped.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _poller.Remove(_timer);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The poller is gone already: so is the timer.
        }
        _monitor.Dispose();
        _refusals.Flush(final: true);
    }

    private void OnEvent(object? sender, NetMQMonitorEventArgs e)
    {
        if (e is not NetMQMonitorSocketEventArgs { Socket: { } socket }) return;
        var now = Environment.TickCount64;
        if (e.SocketEvent == SocketEvents.Accepted)
        {
            _open[socket] = (now, RemoteAddress.Of(socket));
        }
        else if (e.SocketEvent == SocketEvents.Disconnected)
        {
            var accepted = _open.Remove(socket, out var open) ? open : (At: now, Remote: RemoteAddress.Of(socket));
            _closed.Enqueue((now, accepted.At, accepted.Remote));
        }
    }

    /// <summary>Each disconnect older than <see cref="Grace"/> is matched with a trusted trace, or counted as refused.</summary>
    private void Settle()
    {
        var now = Environment.TickCount64;
        var grace = (long)Grace.TotalMilliseconds;
        var lifetime = (long)MarkerLifetime.TotalMilliseconds;
        while (_trustedCloses.TryPeek(out var marked) && now - marked > lifetime) _trustedCloses.Dequeue();
        while (_closed.TryPeek(out var closed) && now - closed.At >= grace)
        {
            _closed.Dequeue();
            if (_trace == TrustTrace.DisconnectMessage)
            {
                if (_trustedCloses.TryDequeue(out _)) continue;
            }
            else if (closed.At - closed.AcceptedAt > grace
                // The socket and its monitor are read in either order: an event counts from a grace before the accept on.
                || _deliveries.Any(d => d >= closed.AcceptedAt - grace - DeliveryStep && d <= closed.At + grace))
            {
                continue;
            }
            _refusals.Refused(_name, _endpoint, closed.Remote);
        }
        while (_deliveries.TryPeek(out var delivered) && now - delivered > lifetime) _deliveries.Dequeue();
        _refusals.Flush();
    }

    /// <summary>
    /// The peer's address. NetMQ often closes a refused connection before its monitor event is read, and a closed
    /// <see cref="Socket"/> no longer answers <see cref="Socket.RemoteEndPoint"/>; .NET keeps the accepted peer's address
    /// in a private field, read then for the log only. Null when neither works (the log says the address is unknown).
    /// </summary>
    private static class RemoteAddress
    {
        private static readonly FieldInfo? Kept = typeof(Socket).GetField("_remoteEndPoint", BindingFlags.Instance | BindingFlags.NonPublic);

        public static IPEndPoint? Of(AsyncSocket socket)
        {
            try
            {
                return socket.RemoteEndPoint;
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return FromClosed(socket);
            }
        }

        private static IPEndPoint? FromClosed(AsyncSocket socket)
        {
            if (Kept is null) return null;
            try
            {
                var inner = socket.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
                    .FirstOrDefault(f => typeof(Socket).IsAssignableFrom(f.FieldType))?.GetValue(socket);
                return inner is Socket closed ? Kept.GetValue(closed) as IPEndPoint : null;
            }
            catch (Exception e) when (e is FieldAccessException or ArgumentException or TargetException)
            {
                return null;  // this runs on the socket's poller thread: an unknown address, never a crash
            }
        }
    }
}

/// <summary>What a connection that completed its CURVE handshake leaves behind, by socket type (see <see cref="HandshakeWatch"/>).</summary>
internal enum TrustTrace
{
    /// <summary>ROUTER: its <see cref="HandshakeWatch.DisconnectMarker"/> when it ends.</summary>
    DisconnectMessage,
    /// <summary>SUB: the events it delivered.</summary>
    Delivery,
}
