using System.Runtime.InteropServices;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Bench;

/// <summary>
/// <c>motey-bench fake-peers --prefix 127.78.1 --first 100 --count 100</c> (or <c>--plan live --count N</c>, the
/// addresses of <see cref="PeerPlan"/>): many lightweight peers in one process.
/// Peer k (address prefix.(first+k)) answers on ports 5091–5094 like a node: capabilities
/// <c>[{"capability": "fanout-(k+1)", ...}, {"capability": "simulated", "capability_type": "plugin"}]</c>, deploy an
/// instance id, status "2" (RUNNING), terminate "" (done). So an image needing <c>fanout-N</c> can run only on the
/// N-th peer: the last of the first N. Prints "ready" once every socket is bound; stops on SIGTERM or SIGINT.
/// With <c>--cluster-key PATH</c> (a file made by <c>motey keys generate</c>) every socket is a CURVE server of that key
/// pair, as a node's repliers are with [ZEROMQ] cluster_key.
/// With <c>--mqtt HOST:PORT[,HOST:PORT]</c> every peer is also an MQTT member (see <see cref="MqttPeers"/>; peer k on the
/// (k mod count)-th broker), with <c>--legacy</c> as today's main behaves; <c>--subscribe all|requests</c>,
/// <c>--stats FILE</c>, <c>--churn-file FILE --churn-rate R</c>; <c>--no-zeromq</c>: members only, no repliers (the join
/// benchmark: 2,000 peers bind 8,000 listening sockets otherwise, against a descriptor limit of 20,000 here).
/// </summary>
internal static class FakePeers
{
    public const int CapabilitiesPort = 5091;
    public const int DeployPort = 5092;
    public const int StatusPort = 5093;
    public const int TerminatePort = 5094;

    public static string Capability(int n) => $"fanout-{n}";

    public static int Run(string prefix, int first, int count, string? clusterKeyFile = null) =>
        Run(new PeerSettings(Enumerable.Range(0, count).Select(k => $"{prefix}.{first + k}").ToList(), clusterKeyFile));

    /// <summary>
    /// Peer k of <see cref="PeerSettings.Addresses"/> answers capabilities from a ROUTER socket of its own (its answer is
    /// its own list); deploy, status and terminate are answered by one ROUTER socket each, bound on every peer's address
    /// (their answers do not depend on the peer: instance ids are unique in the process), so 2,000 peers need 2,003
    /// sockets, not 8,000. With <see cref="PeerSettings.Mqtt"/> every peer is also a member on the broker(s), see <see cref="MqttPeers"/>.
    /// </summary>
    public static int Run(PeerSettings settings)
    {
        // NetMQ refuses to make more than MaxSockets sockets (default 1,024); it must be raised before the first one.
        NetMQConfig.MaxSockets = 65_536;
        var curve = settings.ClusterKeyFile is null ? null : ReadClusterKey(settings.ClusterKeyFile);
        using var poller = new NetMQPoller();
        var sockets = new List<RouterSocket>();
        var deployed = 0;
        var addresses = settings.Addresses;
        var capabilities = new PeerCapabilities(addresses.Count);
        if (settings.ZeroMq)
        {
            for (var k = 0; k < addresses.Count; k++)
            {
                var peer = k;
                Bind(poller, sockets, curve, [addresses[k]], CapabilitiesPort, _ => capabilities.Json(peer));
            }
            Bind(poller, sockets, curve, addresses, DeployPort, _ => $"fake-{Interlocked.Increment(ref deployed)}");
            Bind(poller, sockets, curve, addresses, StatusPort, _ => "2");
            Bind(poller, sockets, curve, addresses, TerminatePort, _ => "");
        }
        using var stop = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        poller.RunAsync("fake-peers", isBackgroundThread: true);
        MqttPeers? mqtt = null;
        if (settings.Mqtt.Count > 0)
        {
            mqtt = new MqttPeers(settings, capabilities);
            var (connected, problems) = mqtt.StartAsync().GetAwaiter().GetResult();
            if (problems.Count > 0)
            {
                Console.WriteLine($"failed: {problems.Count} of {addresses.Count} peers could not join the broker; first: {problems[0]}");
                mqtt.DisposeAsync().AsTask().GetAwaiter().GetResult();
                poller.Stop();
                foreach (var socket in sockets) socket.Dispose();
                return 1;
            }
            Console.WriteLine($"joined: {connected} peers on {string.Join(", ", settings.Mqtt)} ({(settings.Legacy ? "legacy: no presence, every nodes_request answered" : "presence on motey/v2/nodes/<address>")}, subscribed to {(settings.SubscribeAll ? "every membership topic" : "nodes_request only")})");
        }
        Console.WriteLine($"ready: {addresses.Count} peers, {sockets.Count} sockets, {(curve is null ? "plain ZeroMQ" : "CURVE")}");
        stop.Wait();
        mqtt?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        poller.Stop();
        foreach (var socket in sockets) socket.Dispose();
        Console.WriteLine($"stopped after {deployed} deploys");
        return 0;
    }

    /// <summary>
    /// The key pair of a cluster key file (<c>public = Z85</c>, <c>secret = Z85</c>, <c>#</c> comments). The agent checks
    /// such a file thoroughly; here a file that is not one only has to fail loudly.
    /// </summary>
    public static NetMQCertificate ReadClusterKey(string path)
    {
        var values = File.ReadAllLines(path)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))  // Z85 has '=' in its alphabet: split at the first one only
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);
        if (!values.TryGetValue("secret", out var secret) || !values.TryGetValue("public", out var expected))
            throw new InvalidOperationException($"{path}: no 'public = KEY' and 'secret = KEY' lines: not a file made by `motey keys generate`");
        var pair = NetMQCertificate.CreateFromSecretKey(secret);
        if (pair.PublicKeyZ85 != expected) throw new InvalidOperationException($"{path}: the public key does not belong to the secret one");
        return pair;
    }

    private static void Bind(NetMQPoller poller, List<RouterSocket> sockets, NetMQCertificate? curve, IEnumerable<string> addresses, int port, Func<string, string> answer)
    {
        var socket = new RouterSocket();
        socket.Options.Linger = TimeSpan.Zero;
        if (curve is not null)
        {
            socket.Options.CurveServer = true;
            socket.Options.CurveCertificate = curve;
        }
        foreach (var address in addresses) socket.Bind($"tcp://{address}:{port}");
        socket.ReceiveReady += (_, e) =>
        {
            NetMQMessage? message = null;
            while (e.Socket.TryReceiveMultipartMessage(ref message))
            {
                // [identity][empty][request] from a REQ peer: the reply goes back behind the same envelope.
                var reply = new NetMQMessage();
                var frames = message.ToList();
                var delimiter = frames.FindIndex(1, f => f.IsEmpty);
                var envelope = delimiter >= 0 ? delimiter + 1 : 1;
                foreach (var frame in frames.Take(envelope)) reply.Append(frame.ToByteArray());
                var request = string.Join("", frames.Skip(envelope).Select(f => Encoding.UTF8.GetString(f.ToByteArray())));
                reply.Append(Encoding.UTF8.GetBytes(answer(request)));
                e.Socket.TrySendMultipartMessage(reply);
                message = null;
            }
        };
        poller.Add(socket);
        sockets.Add(socket);
    }
}
