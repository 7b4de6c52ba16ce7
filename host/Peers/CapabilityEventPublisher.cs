using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Peers.Zmtp;
using NetMQ;
using NetMQ.Sockets;

namespace Motey.Host.Peers;

/// <summary>
/// Sends one capability event to a node's capability event listener, as the original's addcapability.py did,
/// for <c>motey capability add|remove</c>.
/// </summary>
/// <remarks>
/// The slow-joiner problem (a PUB drops what it sends before the subscriber's subscription has reached it) is
/// solved without guessing a sleep: the socket is an XPUB, which is a PUB on the wire but also receives the
/// subscriptions, so the event is sent once the listener has subscribed — or not at all, and the command says so.
/// Sending is fire-and-forget (pub/sub has no acknowledgement); the socket lingers to flush. A process that exits
/// right after (the CLI) calls <c>NetMQConfig.Cleanup(block: true)</c> first so the lingering message goes out.
/// An <c>ipc://</c> endpoint is a Unix socket speaking ZMTP 3 (<see cref="ZmtpPublisher"/>, the same XPUB behaviour):
/// NetMQ's ipc is TCP in disguise and would never reach a libzmq or Motey.NET listener there.
/// </remarks>
internal static class CapabilityEventPublisher
{
    public const string AddCommand = CapabilityEvent.AddCommand;
    public const string RemoveCommand = CapabilityEvent.RemoveCommand;

    /// <summary>How long to wait for the listener to subscribe when none is given.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sends <paramref name="command"/> (<c>add_capability</c> or <c>remove_capability</c>) with <paramref name="list"/>
    /// to <paramref name="endpoint"/>. Returns 0 when sent, 1 when no listener subscribed within <paramref name="wait"/>
    /// or the endpoint is unusable, 2 for an invalid command or list. Says what happened on <paramref name="output"/>.
    /// With <paramref name="key"/> the event goes out as a CURVE client of the cluster key (a listener with capability_publishers = any).
    /// </summary>
    public static Task<int> PublishAsync(string endpoint, string command, IReadOnlyList<Capability> list, TextWriter output, TimeSpan? wait = null,
        ClusterKey? key = null)
    {
        if (command is not (AddCommand or RemoveCommand))
            return Done(output, 2, $"motey: unknown capability command '{command}'; expected {AddCommand} or {RemoveCommand}");
        if (list.Count == 0) return Done(output, 2, "motey: no capability given");
        var message = new CapabilityEvent(command, list).Format();
        // The listener's own rules, checked here so the user hears about a refusal instead of the listener's log.
        if (CapabilityEvent.Parse(message, out var problem) is null) return Done(output, 2, $"motey: {problem}");
        if (IpcEndpoint.Is(endpoint)) return SendIpcAsync(endpoint, message, list, output, wait ?? DefaultWait);
        // NetMQ calls block: they get a thread of their own for the few seconds this takes.
        return Task.Run(() => Send(endpoint, message, list, output, wait ?? DefaultWait, key));
    }

    private static async Task<int> SendIpcAsync(string endpoint, string message, IReadOnlyList<Capability> list, TextWriter output, TimeSpan wait)
    {
        var failure = await ZmtpPublisher.PublishAsync(endpoint, Frames.Encode(message), PeerSockets.MaxMessageBytes, wait);
        return failure?.Kind switch
        {
            null => Sent(output, message, list, endpoint),
            ZmtpPublisher.FailureKind.NoSubscription => Write(output, 1, NoListener(endpoint, wait, key: null) + $" ({failure.Problem})"),
            ZmtpPublisher.FailureKind.NoListener => Write(output, 1, $"motey: cannot connect to {endpoint}: {failure.Problem}; is the agent running, "
                + "and is this its [ZEROMQ] capability_engine_ipc_path?"),
            _ => Write(output, 1, $"motey: cannot send to {endpoint}: {failure.Problem}"),
        };
    }

    private static int Send(string endpoint, string message, IReadOnlyList<Capability> list, TextWriter output, TimeSpan wait, ClusterKey? key)
    {
        using var socket = new XPublisherSocket();
        socket.Options.Linger = Linger;
        if (key is not null)
        {
            socket.Options.CurveServerKey = key.PublicKey;
            socket.Options.CurveCertificate = new NetMQCertificate();
        }
        try
        {
            socket.Connect(endpoint);
        }
        catch (Exception e) when (e is NetMQException or System.Net.Sockets.SocketException or ArgumentException)
        {
            return Write(output, 1, $"motey: cannot connect to {endpoint}: {e.Message}");
        }
        if (!WaitForSubscriber(socket, Frames.Encode(message), wait)) return Write(output, 1, NoListener(endpoint, wait, key));
        if (!socket.TrySendFrame(wait, message))
            return Write(output, 1, $"motey: could not send the event to {endpoint} within {wait.TotalSeconds:0.###} s");
        return Sent(output, message, list, endpoint);
    }

    private static string NoListener(string endpoint, TimeSpan wait, ClusterKey? key) =>
        $"motey: no capability event listener subscribed on {endpoint} within {wait.TotalSeconds:0.###} s; " +
        "is the agent running, and is this its [ZEROMQ] capability_engine_ipc_path?" + (key is null
            ? ""
            : $" A listener with another cluster key (this one is {key.Fingerprint}) does not subscribe either");

    private static int Sent(TextWriter output, string message, IReadOnlyList<Capability> list, string endpoint)
    {
        var names = string.Join(", ", list.Select(c => $"{c.Name} ({c.Type})"));
        return Write(output, 0, $"sent {message[..message.IndexOf('#')]} for {names} to {endpoint}");
    }

    /// <summary>XPUB hands up each subscription as a frame: 1, then the topic prefix. Waits for one that matches the message.</summary>
    private static bool WaitForSubscriber(XPublisherSocket socket, byte[] message, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if (!socket.TryReceiveFrameBytes(deadline - DateTime.UtcNow, out var frame)) return false;
            if (frame is [1, ..] && message.AsSpan().StartsWith(frame.AsSpan(1))) return true;
        }
        return false;
    }

    private static Task<int> Done(TextWriter output, int code, string text) => Task.FromResult(Write(output, code, text));

    private static int Write(TextWriter output, int code, string text)
    {
        output.WriteLine(text);
        return code;
    }
}
