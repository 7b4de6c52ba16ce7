using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;

namespace Motey.Bench;

/// <summary>What a fake-peer process simulates: its peers' addresses, and how they take part in membership.</summary>
/// <param name="Mqtt">Brokers as host:port; empty = ZeroMQ only (the fan-out benchmark injects the peers itself).</param>
/// <param name="Legacy">Today's main: no presence, every nodes_request answered with register.</param>
/// <param name="SubscribeAll">Subscribed like a real node (register, remove, nodes_request, and the presences); false: nodes_request only.</param>
/// <param name="StatsFile">Where the counters are written every 200 ms (JSON), for the driver.</param>
/// <param name="ChurnFile">While this file exists, peers change their capabilities, <paramref name="ChurnRate"/> changes per second.</param>
internal sealed record PeerSettings(IReadOnlyList<string> Addresses, string? ClusterKeyFile = null)
{
    public IReadOnlyList<(string Host, int Port)> Mqtt { get; init; } = [];
    public bool Legacy { get; init; }
    public bool SubscribeAll { get; init; } = true;
    public string? StatsFile { get; init; }
    public string? ChurnFile { get; init; }
    public int ChurnRate { get; init; } = 100;
    public bool ZeroMq { get; init; } = true;

    public static PeerSettings From(Options options)
    {
        IReadOnlyList<string> addresses = options.Has("plan")
            ? options.Get("plan", "live") switch
            {
                "live" => PeerPlan.LiveAddresses(options.GetInt("count", 100)),
                var plan => throw new ArgumentException($"--plan {plan}: only 'live' is known"),
            }
            : Enumerable.Range(0, options.GetInt("count", 100)).Select(k => $"{options.Get("prefix", "127.78.1")}.{options.GetInt("first", 100) + k}").ToList();
        var brokers = options.Get("mqtt", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(b => b.Split(':') is [var host, var port] ? (host, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture))
                : throw new ArgumentException($"--mqtt {b}: expected HOST:PORT"))
            .ToList();
        var subscribe = options.Get("subscribe", "all");
        if (subscribe is not ("all" or "requests")) throw new ArgumentException($"--subscribe {subscribe}: all or requests");
        return new PeerSettings(addresses, options.Has("cluster-key") ? options.Get("cluster-key", "") : null)
        {
            Mqtt = brokers,
            Legacy = options.Has("legacy"),
            SubscribeAll = subscribe == "all",
            StatsFile = options.Has("stats") ? options.Get("stats", "") : null,
            ChurnFile = options.Has("churn-file") ? options.Get("churn-file", "") : null,
            ChurnRate = options.GetInt("churn-rate", 100),
            ZeroMq = !options.Has("no-zeromq"),
        };
    }
}

/// <summary>
/// Each peer's capability list, as its v1 answer (JSON) and its presence. Peer k offers <c>fanout-(k+1)</c> (hardware)
/// and <c>simulated</c> (plugin); churn adds and removes <c>churn-k-i</c> (software) on it.
/// </summary>
internal sealed class PeerCapabilities(int count)
{
    private readonly string[] _json = Enumerable.Range(0, count).Select(k => Serialize(k, null)).ToArray();
    private readonly int[] _churns = new int[count];

    public string Json(int peer) => Volatile.Read(ref _json[peer]);

    /// <summary>Changes peer k's list (an extra capability appears or goes, in turn); returns the new JSON.</summary>
    public string Churn(int peer)
    {
        var n = Interlocked.Increment(ref _churns[peer]);
        var json = Serialize(peer, n % 2 == 1 ? $"churn-{peer}-{n}" : null);
        Volatile.Write(ref _json[peer], json);
        return json;
    }

    private static string Serialize(int k, string? extra)
    {
        var list = new List<Dictionary<string, string>>
        {
            new() { ["capability"] = FakePeers.Capability(k + 1), ["capability_type"] = "hardware" },
            new() { ["capability"] = "simulated", ["capability_type"] = "plugin" },
        };
        if (extra is not null) list.Add(new() { ["capability"] = extra, ["capability_type"] = "software" });
        return JsonSerializer.Serialize(list);
    }
}

/// <summary>
/// The fake peers as MQTT members: one MQTTnet client per peer (client id = its address, clean session, keepalive 60 s,
/// last will v1 <c>remove</c> with its address, as a node's). Joining, each peer publishes — in the default mode, issue 16's
/// D1 — its retained presence on <c>motey/v2/nodes/&lt;address&gt;</c> (<c>{"address", "capabilities", "agent"}</c>) and
/// then v1 <c>register</c>; with <c>--legacy</c> (today's main) only <c>register</c>. Simulated peers are members that
/// joined before: they do not send <c>nodes_request</c> (at 2,000 peers that would be 2,000 rounds of 2,000 answers).
/// All of them publish first and subscribe only when all have, and to the presences without the retained ones (MQTT 5
/// retain handling), so setting up N peers costs O(N) deliveries, not the N² a real cluster would have paid while it grew.
/// A <c>nodes_request</c> from X ≠ self is answered with <c>register</c>: always in legacy mode; in the default mode only
/// when X has no presence (X is an original node, or not known yet). Who has a presence is one set for the process, kept
/// by every peer's own presence subscription (so a peer always knows X's presence before X's request, which X publishes
/// after it) and by one observer client that also takes the retained ones (with <c>--subscribe requests</c> only the
/// observer: then a request racing its requester's presence may be answered although it need not be).
/// Peers connect in batches of <see cref="Batch"/>; a refused or failed connect is tried again up to 3 times.
/// </summary>
internal sealed class MqttPeers(PeerSettings settings, PeerCapabilities capabilities) : IAsyncDisposable
{
    public const string NodesRequest = "motey/v1/nodes_request";
    public const string Register = "motey/v1/register";
    public const string Remove = "motey/v1/remove";
    public const string PresencePrefix = "motey/v2/nodes/";

    /// <summary>Connects in flight at once: a few hundred at a time keep the broker's accept queue and the 2 cores busy without timeouts.</summary>
    private const int Batch = 100;

    private readonly IMqttClient?[] _clients = new IMqttClient?[settings.Addresses.Count];
    private long _reconnected;
    private readonly ConcurrentDictionary<string, byte> _presences = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private IMqttClient? _observer;
    private Task? _background;

    private long _received, _receivedRegister, _receivedRequest, _receivedRemove, _receivedPresence, _answered, _churned, _disconnected;

    private static readonly UTF8Encoding Utf8 = new(false);

    public async Task<(int Connected, List<string> Problems)> StartAsync()
    {
        _observer = await ConnectObserverAsync();
        var problems = new ConcurrentBag<string>();
        // Everyone joins and announces itself first, and subscribes only once all have: a peer subscribed early would
        // receive the announcements of all that come after it (N²/2 deliveries before the benchmark even starts).
        await InBatchesAsync(async k =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    _clients[k] = await JoinAsync(k);
                    return;
                }
                catch (Exception) when (attempt < 3)
                {
                    await Task.Delay(200 * attempt);
                }
                catch (Exception e)
                {
                    problems.Add($"peer {settings.Addresses[k]}: {e.GetType().Name}: {e.Message}");
                    return;
                }
            }
        });
        await InBatchesAsync(async k =>
        {
            if (_clients[k] is not { } client) return;
            try
            {
                await SubscribeAsync(client);
            }
            catch (Exception e)
            {
                problems.Add($"peer {settings.Addresses[k]} could not subscribe: {e.GetType().Name}: {e.Message}");
            }
        });
        _background = Task.WhenAll(WriteStatsAsync(_stop.Token), ChurnAsync(_stop.Token));
        return (_clients.Count(c => c is not null), problems.ToList());
    }

    private async Task InBatchesAsync(Func<int, Task> action)
    {
        for (var start = 0; start < _clients.Length; start += Batch)
            await Task.WhenAll(Enumerable.Range(start, Math.Min(Batch, _clients.Length - start)).Select(action));
    }

    private Task SubscribeAsync(IMqttClient client)
    {
        var subscribe = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(NodesRequest);
        if (settings.SubscribeAll)
        {
            subscribe = subscribe.WithTopicFilter(Register).WithTopicFilter(Remove)
                .WithTopicFilter(f => f.WithTopic(PresencePrefix + "+").WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe));
        }
        return client.SubscribeAsync(subscribe.Build(), _stop.Token);
    }

    private (string Host, int Port) BrokerOf(int k) => settings.Mqtt[k % settings.Mqtt.Count];

    private async Task<IMqttClient> JoinAsync(int k)
    {
        var address = settings.Addresses[k];
        var (host, port) = BrokerOf(k);
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(address)
            .WithCleanSession(true)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithWillTopic(Remove).WithWillPayload(address).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        client.ApplicationMessageReceivedAsync += e => OnMessageAsync(client, address, e.ApplicationMessage);
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !_stop.IsCancellationRequested)
            {
                // As a node does: join again, announce again, subscribe again (it would also ask nodes_request; simulated
                // members do not, see above). In the first before-run 2,000 peers that could not keep up with 4 M
                // deliveries lost their connections (keepalive) and, not coming back, spoiled the later runs.
                Interlocked.Increment(ref _disconnected);
                _ = RejoinAsync(client, k, options);
            }
            return Task.CompletedTask;
        };
        try
        {
            await AnnounceAsync(client, k, options);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private async Task AnnounceAsync(IMqttClient client, int k, MqttClientOptions options)
    {
        var result = await client.ConnectAsync(options, _stop.Token);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"the broker at {BrokerOf(k).Host}:{BrokerOf(k).Port} refused it: {result.ResultCode}");
        if (!settings.Legacy) await PublishPresenceAsync(client, k);
        await client.PublishAsync(Message(Register, settings.Addresses[k]), _stop.Token);
    }

    /// <summary>Until connected again (every 1 s), then announced and subscribed as at the start.</summary>
    private async Task RejoinAsync(IMqttClient client, int k, MqttClientOptions options)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(1000, _stop.Token);
                await AnnounceAsync(client, k, options);
                await SubscribeAsync(client);
                Interlocked.Increment(ref _reconnected);
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // the broker is still busy or gone: try again
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<IMqttClient> ConnectObserverAsync()
    {
        var (host, port) = settings.Mqtt[0];
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            NotePresence(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port)
            .WithClientId($"motey-bench-presence-observer-{Environment.ProcessId}").WithCleanSession(true)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60)).WithTimeout(TimeSpan.FromSeconds(30)).Build(), _stop.Token);
        if (result.ResultCode != MqttClientConnectResultCode.Success) throw new InvalidOperationException($"the broker at {host}:{port} refused the presence observer: {result.ResultCode}");
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(PresencePrefix + "+").Build(), _stop.Token);
        return client;
    }

    private Task PublishPresenceAsync(IMqttClient client, int k)
    {
        var address = settings.Addresses[k];
        var payload = $"{{\"address\":\"{address}\",\"capabilities\":{capabilities.Json(k)},\"agent\":\"motey-bench fake peer\"}}";
        return client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(PresencePrefix + address)
            .WithPayload(Utf8.GetBytes(payload)).WithRetainFlag(true).Build(), _stop.Token);
    }

    private static MqttApplicationMessage Message(string topic, string payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Utf8.GetBytes(payload)).Build();

    private void NotePresence(MqttApplicationMessage message)
    {
        if (!message.Topic.StartsWith(PresencePrefix, StringComparison.Ordinal)) return;
        var address = message.Topic[PresencePrefix.Length..];
        if (message.Payload.IsEmpty) _presences.TryRemove(address, out _);
        else _presences[address] = 0;
    }

    private async Task OnMessageAsync(IMqttClient client, string self, MqttApplicationMessage message)
    {
        Interlocked.Increment(ref _received);
        var topic = message.Topic;
        switch (topic)
        {
            case NodesRequest:
                Interlocked.Increment(ref _receivedRequest);
                var requester = Utf8.GetString(message.Payload).Trim();
                if (requester == self) return;
                if (!settings.Legacy && _presences.ContainsKey(requester)) return;
                Interlocked.Increment(ref _answered);
                try
                {
                    await client.PublishAsync(Message(Register, self), _stop.Token);
                }
                catch (Exception) when (_stop.IsCancellationRequested || !client.IsConnected)
                {
                }
                return;
            case Register:
                Interlocked.Increment(ref _receivedRegister);
                return;
            case Remove:
                Interlocked.Increment(ref _receivedRemove);
                return;
            default:
                Interlocked.Increment(ref _receivedPresence);
                NotePresence(message);
                return;
        }
    }

    /// <summary>Counters for the driver, rewritten every 200 ms (write to a temporary file, then rename: never read half-written).</summary>
    private async Task WriteStatsAsync(CancellationToken stop)
    {
        if (settings.StatsFile is not { } file) return;
        var temporary = file + ".tmp";
        while (!stop.IsCancellationRequested)
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(Stats()));
            File.Move(temporary, file, overwrite: true);
            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public PeerStats Stats() => new(
        _clients.Count(c => c is { IsConnected: true }), Interlocked.Read(ref _received), Interlocked.Read(ref _receivedRegister),
        Interlocked.Read(ref _receivedRequest), Interlocked.Read(ref _receivedRemove), Interlocked.Read(ref _receivedPresence),
        Interlocked.Read(ref _answered), Interlocked.Read(ref _churned), Interlocked.Read(ref _disconnected), _presences.Count, Interlocked.Read(ref _reconnected));

    /// <summary>While the churn file exists: peer after peer changes its capabilities (and republishes its presence, unless legacy).</summary>
    private async Task ChurnAsync(CancellationToken stop)
    {
        if (settings.ChurnFile is not { } file) return;
        var next = 0;
        var interval = TimeSpan.FromSeconds(1.0 / Math.Max(1, settings.ChurnRate));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!File.Exists(file))
                {
                    await Task.Delay(100, stop);
                    continue;
                }
                var k = next++ % _clients.Length;
                capabilities.Churn(k);
                if (!settings.Legacy && _clients[k] is { IsConnected: true } client) await PublishPresenceAsync(client, k);
                Interlocked.Increment(ref _churned);
                await Task.Delay(interval, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Leaves as a node stopping cleanly would not bother to here: the process ends, so the connections are just closed (no wills matter: the broker goes too).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_background is not null) await _background;
        foreach (var client in _clients.Append(_observer))
        {
            if (client is null) continue;
            try
            {
                if (client.IsConnected) await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
            }
            catch (Exception)
            {
                // the broker may be gone already
            }
            client.Dispose();
        }
        _stop.Dispose();
    }
}

/// <summary>What a fake-peer process has seen and done (the --stats file).</summary>
internal sealed record PeerStats(int Connected, long Received, long ReceivedRegister, long ReceivedRequest, long ReceivedRemove,
    long ReceivedPresence, long Answered, long Churned, long Disconnected, int Presences, long Reconnected = 0);
