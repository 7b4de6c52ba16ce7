using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using Motey.Host.Configuration;
using Motey.Host.Core.Membership;
using Motey.Host.Peers;
using Motey.Host.Core.Placement;

namespace Motey.Host.Membership;

/// <summary>
/// Node membership over MQTT, wire-compatible with the original Motey (topics below, QoS 0, payload = the node's
/// address as plain text). The node uses the first broker of [MQTT] brokers that answers; when it loses that broker it
/// goes on with the next one (then the rest of the list, round), and while it uses a later broker it looks for an
/// earlier one every <see cref="PreferredBrokerRetry"/> and moves back to it: every node lists the same brokers in the
/// same order, so they all meet on the first one alive. When none answers it retries with exponential backoff.
/// After every (re)connect the node publishes its <see cref="Presence"/> (retained, with its capabilities), announces
/// itself on <c>register</c> and asks on <c>nodes_request</c>; a peer is confirmed by its <c>register</c> or its presence
/// (the retained presences of every Motey.NET member arrive on subscribing: a join costs one delivery per member, and
/// a node answers <c>nodes_request</c> only for requesters without a presence, the original nodes). From the loss of a
/// broker until they announce themselves again, the peers are unconfirmed, kept, and checked directly over ZeroMQ
/// (<see cref="DirectPeerChecks"/>), which drops the dead ones: a broker that dies with its node never freezes membership.
/// A clean stop clears the presence and says <c>remove</c>; a node that dies is removed through its last will (the broker
/// sends <c>remove</c> for it when its connection drops or its keepalive runs out), and its presence, which no will can
/// clear, is cleared by the peer with the lowest address.
/// </summary>
internal sealed class MqttMembership(
    MoteySettings settings,
    NodeIdentity identity,
    ClusterNodes nodes,
    MembershipStatus status,
    DirectPeerChecks checks,
    CapabilityView view,
    PresencePublisher presence,
    ClusterChanges changes,
    PeerAnswers answers,
    TimeProvider time,
    ILogger<MqttMembership> log) : BackgroundService
{
    public const string NodesRequest = "motey/v1/nodes_request";
    public const string Register = "motey/v1/register";
    public const string Remove = "motey/v1/remove";

    /// <summary>
    /// While on a later broker of the list, how often an earlier one is tried: nodes that moved on meet again on the
    /// first broker within this (plus <see cref="ProbeTimeout"/>) once it is back, and a broker that is down costs one
    /// refused connection per try.
    /// </summary>
    public static readonly TimeSpan PreferredBrokerRetry = TimeSpan.FromSeconds(5);

    /// <summary>How long trying an earlier broker may take; it is answered within milliseconds when it is up.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);

    private BrokerList Brokers => settings.Mqtt.Brokers;

    /// <summary>The connection in use; null while none.</summary>
    private volatile BrokerConnection? _current;
    // The connection being joined, from its subscription until it becomes _current: a clear of this node's own presence
    // that arrives in between is answered too (it would otherwise leave this live node without a presence).
    private volatile BrokerConnection? _joining;

    /// <summary>TLS to the brokers; null when [MQTT] tls is false.</summary>
    private BrokerTls? _tls;

    /// <summary>How recently another peer must have answered this node for it to clear a dropped peer's presence.</summary>
    private static readonly TimeSpan PresenceClearWitness = TimeSpan.FromSeconds(60);

    /// <summary>The peers whose presence is out (the last message on their presence topic was one): the retained messages a dead peer leaves behind.</summary>
    private readonly ConcurrentDictionary<string, byte> _present = new(StringComparer.Ordinal);

    /// <summary>
    /// The nodes of the last run are forgotten before the first connect: they announce themselves again. A ca_file that
    /// holds no certificate stops the start.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _tls = BrokerTls.From(settings.Mqtt);
        checks.Dropped += OnDropped;
        await nodes.ResetAsync(cancellationToken);
        log.LogInformation("Node {Address} starting; the nodes of the last run are forgotten until they announce themselves", identity.Address);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Follows the capabilities from before the first connect publishes them: no change falls in between.
        var following = presence.FollowChangesAsync(() => _current, stoppingToken);
        try
        {
            var retry = FirstRetry;
            var first = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                if (await ConnectToFirstAnsweringAsync(first, stoppingToken) is { } connection)
                {
                    retry = FirstRetry;
                    first = await StayConnectedAsync(connection, stoppingToken);
                    continue;
                }
                await Task.Delay(retry, stoppingToken);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, settings.Mqtt.ReconnectMax.Ticks));
                first = 0;
            }
        }
        finally
        {
            await following;
        }
    }

    /// <summary>Tries the brokers from <paramref name="first"/> on, round the list; null, with the state set, when none answers.</summary>
    private async Task<BrokerConnection?> ConnectToFirstAnsweringAsync(int first, CancellationToken stoppingToken)
    {
        var problems = new List<string>();
        var failures = new HashSet<Failure>();
        for (var i = 0; i < Brokers.Count; i++)
        {
            var (connection, problem, failure) = await TryConnectAsync((first + i) % Brokers.Count, stoppingToken);
            if (connection is not null)
            {
                _current = connection;
                _joining = null;
                status.Set(MembershipState.Connected, null);
                log.LogInformation("Joined the cluster through the MQTT broker at {Broker} as {Address}{Tls}", connection.Broker, identity.Address,
                    _tls is null ? "" : " over TLS");
                return connection;
            }
            problems.Add(problem!);
            failures.Add(failure);
        }
        var all = string.Join("; ", problems);
        // A broker that refuses the login or whose certificate is not trusted needs an operator, even while another one is merely down.
        if (failures.Contains(Failure.Login) || failures.Contains(Failure.Tls))
        {
            var check = string.Join(" and ", new[]
            {
                failures.Contains(Failure.Login) ? "[MQTT] username and password" : null,
                failures.Contains(Failure.Tls) ? "[MQTT] ca_file and the broker's certificate" : null,
            }.OfType<string>());
            if (status.Set(MembershipState.Refused, all)) log.LogError("{Problem}; check {Settings}", all, check);
        }
        else if (status.Set(MembershipState.Reconnecting, all))
        {
            log.LogWarning("{Problem}; retrying", all);
        }
        return null;
    }

    /// <summary>Why a broker was not joined: out of reach (try again), or a refusal only an operator can mend.</summary>
    private enum Failure { Unreachable, Login, Tls }

    private async Task<(BrokerConnection? Connection, string? Problem, Failure Failure)> TryConnectAsync(int index, CancellationToken stoppingToken)
    {
        var broker = Brokers[index];
        var connection = new BrokerConnection(broker, index, (c, message) => OnMessageAsync(c, message, stoppingToken));
        try
        {
            // MQTTnet 5 does not throw on a refused login: the result code says it.
            var result = await connection.ConnectAsync(settings.Mqtt, _tls, identity.Address, ConnectTimeout, stoppingToken);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                connection.Dispose();
                var refused = result.ResultCode is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized;
                var reason = string.IsNullOrEmpty(result.ReasonString) ? "" : $" ({result.ReasonString})";
                var login = !refused ? "" : settings.Mqtt.Username is { } user ? $" for the login of user '{user}'" : " for a connection without login ([MQTT] username is empty)";
                return (null, $"the MQTT broker at {broker} refused the connection: {result.ResultCode}{reason}{login}", refused ? Failure.Login : Failure.Unreachable);
            }
            // Every peer must announce itself on this broker; until then the direct checks vouch for it.
            nodes.BeginResync();
            _joining = connection;
            await connection.SubscribeAsync([NodesRequest, Register, Remove, Presence.Subscription], stoppingToken);
            // The presence first: a peer that hears the register or the request knows this node has one.
            await presence.PublishAsync(connection, stoppingToken, again: true);
            await connection.PublishAsync(Register, identity.Address, stoppingToken);
            await connection.PublishAsync(NodesRequest, identity.Address, stoppingToken);
            return (connection, null, Failure.Unreachable);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            _joining = null;
            connection.Dispose();
            // A certificate refused here, or a handshake the broker broke off with an alert: not a broker out of reach.
            if (connection.TlsRejection is not null || Find<AuthenticationException>(e) is not null)
            {
                var why = connection.TlsRejection ?? BrokerConnection.Innermost(e).Message;
                return (null, $"TLS handshake with the MQTT broker at {broker} failed: {why}", Failure.Tls);
            }
            return (null, $"the MQTT broker at {broker} is not reachable: {BrokerConnection.Innermost(e).Message}{TlsHint(connection, e)}", Failure.Unreachable);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Until the connection is lost, or an earlier broker answers again; returns the index of the broker to try first
    /// next. A lost broker leaves every peer unconfirmed and wakes the direct checks at once.
    /// </summary>
    private async Task<int> StayConnectedAsync(BrokerConnection connection, CancellationToken stoppingToken)
    {
        while (true)
        {
            bool lost;
            using (var waitEnd = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                var wait = Task.Delay(connection.Index == 0 ? Timeout.InfiniteTimeSpan : PreferredBrokerRetry, waitEnd.Token);
                lost = await Task.WhenAny(connection.Lost, wait) == connection.Lost;
                await waitEnd.CancelAsync();  // ends the wait's timer either way
            }
            if (lost)
            {
                var reason = await connection.Lost;
                _current = null;
                connection.Dispose();
                log.LogWarning("Lost the MQTT broker at {Broker}: {Reason}; the peers are checked directly until they announce themselves again", connection.Broker, reason);
                status.Set(MembershipState.Reconnecting, $"lost the broker at {connection.Broker}");
                nodes.BeginResync();
                checks.Wake();
                return (connection.Index + 1) % Brokers.Count;
            }
            stoppingToken.ThrowIfCancellationRequested();  // stopping: the connection stays for the goodbye
            for (var earlier = 0; earlier < connection.Index; earlier++)
            {
                if (!await AnswersAsync(Brokers[earlier], stoppingToken)) continue;
                log.LogInformation("The MQTT broker at {Earlier} answers again; moving there from {Broker}", Brokers[earlier], connection.Broker);
                _current = null;
                try
                {
                    // The presence left behind would outlive this node there: the peers that come to that broker later would take it for a member.
                    await presence.ClearAsync(connection, stoppingToken);
                    await connection.LeaveAsync(stoppingToken);  // cleanly: no last will, the peers there keep this node
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogDebug("Leaving the MQTT broker at {Broker}: {Error}", connection.Broker, e.Message);
                }
                connection.Dispose();
                return earlier;
            }
        }
    }

    /// <summary>Whether <paramref name="broker"/> accepts a connection now: a throwaway client with no will, disconnected at once.</summary>
    private async Task<bool> AnswersAsync(BrokerEndpoint broker, CancellationToken stoppingToken)
    {
        using var probe = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await probe.ConnectAsync(BrokerConnection.Options(settings.Mqtt, _tls, identity.Address, broker, will: false, ProbeTimeout), stoppingToken);
            if (result.ResultCode != MqttClientConnectResultCode.Success) return false;
            await probe.DisconnectAsync(new MqttClientDisconnectOptions(), stoppingToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task OnMessageAsync(BrokerConnection connection, MqttApplicationMessage message, CancellationToken stoppingToken)
    {
        var topic = message.Topic;
        if (topic.StartsWith(Presence.TopicPrefix, StringComparison.Ordinal))
        {
            await OnPresenceAsync(connection, message, stoppingToken);
            return;
        }
        var address = ReadAddress(message);
        if (address is null)
        {
            log.LogWarning("Dropped a message on {Topic}: the payload is not a node address", topic);
            return;
        }
        try
        {
            switch (topic)
            {
                // A requester with a presence learns this node from this node's presence; one without (an original node)
                // must hear the register. Without a presence out, this node answers everyone, as an original does.
                case NodesRequest when address != identity.Address && (!_present.ContainsKey(address) || !presence.IsOut):
                    await connection.PublishAsync(Register, identity.Address, stoppingToken);
                    break;
                case Register when await nodes.AddAsync(address, stoppingToken):
                    log.LogInformation("Node {Address} joined", address);
                    break;
                case Remove when address != identity.Address:
                    var present = _present.TryRemove(address, out _);
                    if (await nodes.RemoveAsync(address, stoppingToken)) log.LogInformation("Node {Address} left", address);
                    if (present && IsLowestWithout(address)) await ClearPresenceOfAsync(connection, address, stoppingToken);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            log.LogError(ex, "Handling {Topic} from {Address} failed", topic, address);
        }
    }

    /// <summary>
    /// A message on a presence topic. Another node's presence confirms it as a member and puts its capabilities in the
    /// <see cref="CapabilityView"/>; an empty one (a clean stop, or a dead node's cleared) takes them out, and membership
    /// stays with <c>remove</c>. A message that is no presence of the node its topic names changes nothing.
    /// </summary>
    private async Task OnPresenceAsync(BrokerConnection connection, MqttApplicationMessage message, CancellationToken stoppingToken)
    {
        var topic = message.Topic;
        if (Presence.AddressOf(topic) is not { } address)
        {
            log.LogWarning("Dropped the message on {Topic}: the topic does not end in a node address written canonically", Printable(topic));
            return;
        }
        try
        {
            if (address == identity.Address)
            {
                await OnOwnPresenceAsync(connection, message, stoppingToken);
                return;
            }
            if (message.Payload.IsEmpty)
            {
                _present.TryRemove(address, out _);
                if (view.Forget(address)) log.LogDebug("Node {Address} cleared its presence", address);
                // Cleared without a remove heard here (a remove that went out before this node subscribed, a move to
                // another broker, a clear that crossed a bridge): whether it lives is asked directly.
                if (nodes.IsKnown(address) && !nodes.IsUnconfirmed(address))
                {
                    nodes.Suspect(address);
                    checks.Wake();
                }
                return;
            }
            var reading = Presence.Read(address, message.Payload);
            if (reading.Problem is { } problem)
            {
                log.LogWarning("Dropped the presence on {Topic}: {Problem}", topic, problem);
                // What it published before is no longer known to be true: it is asked the v1 way until it publishes again.
                view.Forget(address);
                return;
            }
            var before = view.Find(address)?.Capabilities;
            view.Set(address, reading.Capabilities!, time.GetUtcNow());
            // A peer that gained a capability may be what a waiting image needs: it is tried now, not at the next wait_retry.
            if (before is null || !before.SequenceEqual(reading.Capabilities!)) changes.Notify();
            _present[address] = 0;
            if (!message.Retain)
            {
                if (await nodes.AddAsync(address, stoppingToken)) log.LogInformation("Node {Address} joined", address);
            }
            else if (await nodes.AddUnconfirmedAsync(address, stoppingToken))
            {
                // Old news, kept by the broker: it may be the presence of a node that died and that nobody cleared. Listed
                // at once, confirmed by its first answer to a direct check, dropped (and its presence cleared) if it never answers.
                log.LogInformation("Node {Address} joined (from its retained presence; checked directly once)", address);
                checks.Wake();
            }
            else if (nodes.IsUnconfirmed(address))
            {
                checks.Wake();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            log.LogError(ex, "Handling the presence of {Address} failed", address);
        }
    }

    /// <summary>
    /// This node's own presence comes back to it (MQTT 3.1.1 sends a subscriber its own messages too). Cleared by another
    /// node while this one is connected and has not left (the late will of an earlier connection made the lowest peer
    /// clear it), it is published again: the peers that removed this node for that will take it back from it.
    /// </summary>
    private async Task OnOwnPresenceAsync(BrokerConnection connection, MqttApplicationMessage message, CancellationToken stoppingToken)
    {
        if (!message.Payload.IsEmpty || stoppingToken.IsCancellationRequested || (connection != _current && connection != _joining)
            || !presence.IsOutOn(connection)) return;
        log.LogInformation("Another node cleared this node's presence on {Broker} (after a last will of an earlier connection of this node?); publishing it again",
            connection.Broker);
        await presence.PublishAsync(connection, stoppingToken, again: true);
    }

    /// <summary>Whether this node has the lowest address (ordinal, the order nodes are listed in) of the nodes it knows, <paramref name="gone"/> excepted.</summary>
    /// <summary>
    /// A peer the direct checks found dead: the presence it may have left on the broker is cleared, so no joiner lists it
    /// again; a live node whose presence is cleared publishes it again. Only a node this one never heard alive since it
    /// was listed (a dead node's retained presence), and only while other peers answer this node: a node that cannot
    /// reach anyone (it lacks the cluster key, a firewall) or that lost one peer it had heard must not clear, for every
    /// member, the presence of a node that may well be alive.
    /// </summary>
    private void OnDropped(string address, bool heard)
    {
        if (!_present.TryRemove(address, out _) || _current is not { IsConnected: true } connection) return;
        if (heard || !answers.AnsweredSince(PresenceClearWitness, except: address))
        {
            log.LogInformation("Left the presence of node {Address} on the broker: {Why}", address,
                heard ? "it was heard alive before, and may be alive where this node cannot reach it"
                    : $"no other peer answered this node within {PresenceClearWitness.TotalSeconds:0} s, so the fault may be this node's");
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await connection.PublishRetainedAsync(Presence.Topic(address), [], CancellationToken.None);
                log.LogInformation("Cleared the presence node {Address} left behind (it did not answer direct checks)", address);
            }
            catch (Exception e)
            {
                log.LogDebug("Could not clear the presence of node {Address}: {Error}", address, e.Message);
            }
        });
    }

    /// <summary>Lowest among the nodes with a presence (original nodes never clear one, so they do not count) and this one.</summary>
    private bool IsLowestWithout(string gone) =>
        _present.Keys.All(peer => peer == gone || string.CompareOrdinal(identity.Address, peer) < 0);

    /// <summary>
    /// Clears the presence a node left behind when it went without clearing it (killed: its last will says <c>remove</c>,
    /// but a will cannot clear a retained message). One node does it, the one with the lowest address; two that disagree
    /// on who that is both clear it, which is harmless.
    /// </summary>
    private async Task ClearPresenceOfAsync(BrokerConnection connection, string address, CancellationToken stoppingToken)
    {
        await connection.PublishRetainedAsync(Presence.Topic(address), [], stoppingToken);
        log.LogInformation("Cleared the presence node {Address} left behind (this node has the lowest address of those it knows)", address);
    }

    /// <summary>
    /// The payload as a node address, or null: it must be an IP address written canonically (no shorthand such
    /// as "127.1", octal or hex forms, which would name another host than the text seems to) and a unicast one.
    /// </summary>
    private static string? ReadAddress(MqttApplicationMessage message)
    {
        if (message.Payload.Length is 0 or > 64) return null;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(message.Payload).Trim();
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        return CanonicalAddress(text);
    }

    /// <summary>
    /// <paramref name="text"/> as a node address in canonical form, or null: an IPv4 address must be written canonically
    /// already (no "127.1", octal or hex), an IPv6 address may be spelled any way; either must be a unicast address.
    /// </summary>
    public static string? CanonicalAddress(string text)
    {
        if (!IPAddress.TryParse(text, out var ip)) return null;
        var v4 = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        // IPv6 has several honest spellings of one address (listed in canonical form); IPv4 has one.
        if (v4 && ip.ToString() != text) return null;
        var unusable = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast)
            || ip.IsIPv6Multicast || (v4 && ip.GetAddressBytes()[0] >= 224);
        return unusable ? null : ip.ToString();
    }

    /// <summary>
    /// Ends the loop first (no reconnect or move while saying goodbye), then clears the presence, says goodbye on
    /// <c>remove</c> and disconnects cleanly (so the broker does not send the last will too).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_current is { IsConnected: true } connection)
        {
            try
            {
                // Nothing of this node is left on the broker: its presence first, so peers never see it without its remove.
                await presence.ClearAsync(connection, cancellationToken);
                await connection.PublishAsync(Remove, identity.Address, cancellationToken);
                await connection.LeaveAsync(cancellationToken);
                log.LogInformation("Left the cluster");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("Could not say goodbye to the cluster: {Error}", e.Message);
            }
        }
    }

    /// <summary>
    /// A guess at a TLS setting that does not match the broker's, for a broker that answered the connection and then
    /// broke it off (one that is down refuses it; one that is slow times out): a plain broker breaks off a TLS handshake
    /// before showing a certificate, a broker that serves TLS alone closes a plain connection before answering the login.
    /// </summary>
    private string TlsHint(BrokerConnection connection, Exception e)
    {
        if (Find<SocketException>(e) is not null || Find<OperationCanceledException>(e) is not null || Find<MqttCommunicationTimedOutException>(e) is not null)
            return "";
        if (_tls is not null && !connection.TlsCertificateChecked && Find<IOException>(e) is not null)
            return " (it broke off the TLS handshake: does it serve TLS on this port, as [MQTT] tls = true wants?)";
        if (_tls is null && Find<MqttConnectingFailedException>(e) is not null)
            return " (it closed the connection before answering the login: if it serves TLS, set [MQTT] tls = true and ca_file)";
        return "";
    }

    /// <summary>A peer's own text bounded and on one line, so it cannot forge log lines.</summary>
    private static string Printable(string text)
    {
        var clean = new string(text.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length > 120 ? clean + "..." : clean;
    }

    private static T? Find<T>(Exception? e) where T : Exception => e switch
    {
        null => null,
        T found => found,
        AggregateException all => all.InnerExceptions.Select(Find<T>).FirstOrDefault(f => f is not null),
        _ => Find<T>(e.InnerException),
    };

    public override void Dispose()
    {
        _current?.Dispose();
        base.Dispose();
    }
}
