using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Security;

/// <summary>
/// Nodes on addresses that are not loopback, as in a fog of many machines: each agent in a network namespace of its own
/// (10.200.S.N), joined by a bridge. A node that would open such an address without authentication refuses to start; a
/// secured cluster (REST: TLS + tokens; MQTT: the embedded broker with TLS and a password file; ZeroMQ: the cluster's
/// CURVE key) places an image on the one node that can run it; a node without the cluster's keys can neither join nor
/// deploy; capability events from another host are not heard. The process table (which namespace a process lives in) is
/// the judge of where an image runs.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]  // mosquitto_passwd makes the broker's password file
public sealed class SecuredClusterTests : IAsyncLifetime
{
    private const string AdminToken = "admin-0123456789abcdef-secured";
    private const string ReadToken = "read-0123456789abcdef-secured";
    private const string MqttUser = "fog";
    private const string MqttPassword = "fog-broker-password-1";
    private const int BrokerPort = 8883;

    private readonly TempDirectory _folder = new("motey-secured-");
    private readonly List<NamespacedAgent> _agents = [];
    private NetworkNamespaces _namespaces = null!;
    private TestCertificates _ca = null!;

    public Task InitializeAsync()
    {
        _namespaces = new NetworkNamespaces(3);
        _ca = new TestCertificates(Path.Combine(_folder.Path, "pki"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var agent in _agents) await agent.DisposeAsync();
        }
        finally
        {
            // Process instances outlive their agent by design: a test that failed before deleting its service leaves
            // its sleep behind otherwise.
            foreach (var seconds in _sleeps)
                foreach (var pid in Sleeping(seconds)) Signals.Kill(pid);
            _namespaces.Dispose();
            _folder.Dispose();
        }
    }

    /// <summary>The arguments of the sleeps this test's services run, so none outlives the test.</summary>
    private readonly List<int> _sleeps = [];

    [Fact]
    public async Task A_node_on_an_address_beyond_loopback_refuses_to_start_until_every_channel_is_authenticated()
    {
        var address = _namespaces.Address(0);
        var open = Start(0, "open", new Dictionary<string, string>
        {
            ["WEBSERVER:ip"] = address,
            ["MQTT:ip"] = address,
        });
        Assert.Equal(2, await open.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"[WEBSERVER] ip: ip = {address} is beyond loopback, where the REST API needs tokens and TLS", open.Output);

        // REST secured, ZeroMQ not yet: the next channel is named.
        var restOnly = Start(0, "rest-only", Rest(0, "rest-only").Concat(new Dictionary<string, string> { ["MQTT:ip"] = address })
            .ToDictionary());
        Assert.Equal(2, await restOnly.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"[ZEROMQ] cluster_key: this node's peer sockets bind on {address}, beyond loopback", restOnly.Output);

        // Nothing was bound: nobody answers on the REST port.
        using var probe = _namespaces.Socket(1);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(address, NamespacedAgent.RestPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task A_secured_cluster_places_an_image_remotely_and_a_node_without_its_keys_can_neither_join_nor_deploy()
    {
        var key = Path.Combine(_folder.Path, "cluster.key");
        await RunMoteyAsync("keys", "generate", "--out", key);
        var passwords = Path.Combine(_folder.Path, "passwd");
        await MosquittoBroker.PasswdAsync("-b", "-c", passwords, MqttUser, MqttPassword);  // as an operator makes it
        File.SetUnixFileMode(passwords, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var broker = _ca.Server("broker", _namespaces.Address(0));

        // Node 0 hosts the cluster's broker (TLS, logins from the password file); nodes 1 and 2 join it.
        var nodes = new List<NamespacedAgent>();
        for (var i = 0; i < 3; i++)
        {
            var config = Rest(i, $"node{i}").Concat(Cluster(i, key)).ToDictionary();
            if (i == 0)
            {
                config["MQTT:broker"] = "embedded";
                config["MQTT:tls_certificate"] = broker.Certificate;
                config["MQTT:tls_key"] = broker.Key;
                config["MQTT:password_file"] = passwords;
            }
            nodes.Add(Start(i, $"node{i}", config).Using(_namespaces, i, _ca, AdminToken));
        }
        foreach (var node in nodes) await node.WaitHealthyAsync();
        var (a, _, c) = (nodes[0], nodes[1], nodes[2]);
        await Wait.UntilAsync(async () => (await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Count == 3,
            "node 0 knows all three nodes", TimeSpan.FromSeconds(30), detail: () => a.Output);

        // Without a token: 401. With the read token: a change is forbidden.
        using (var anonymous = _namespaces.Client(1, $"https://{a.Address}:{NamespacedAgent.RestPort}", _ca.Trusts))
        {
            using var denied = await anonymous.GetAsync("/v1/service");
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        }
        using (var reader = _namespaces.Client(1, $"https://{a.Address}:{NamespacedAgent.RestPort}", _ca.Trusts))
        {
            reader.DefaultRequestHeaders.Authorization = new("Bearer", ReadToken);
            using var forbidden = await reader.PostAsync("/v1/service", YamlBody.Of(Blueprint("forbidden", 1)));
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        // Only node 2 has the capability the image needs: node 0 places it there, over CURVE.
        using (var put = await c.Client.PutAsync("/v1/capabilities",
                   new StringContent("""[{"capability": "lab", "capability_type": "hardware"}]""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var seconds = 86_000 + Random.Shared.Next(1000);
        _sleeps.Add(seconds);
        using var created = await a.Client.PostAsync("/v1/service", YamlBody.Of(Blueprint("remote", seconds)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<Service>())!.Id;
        var running = await Wait.ForAsync(async () => (await a.Client.GetFromJsonAsync<Service>($"/v1/service/{id}"))!,
            s => s.State == ServiceState.Running, "the service runs", s => $"{s.State} ({s.StateMessage})\n{a.Output}\n{c.Output}",
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        Assert.Equal(c.Address, running.Images.Single().Node);
        // The process table: one sleep with this service's argument, in node 2's namespace.
        var sleeping = Sleeping(seconds);
        Assert.Single(sleeping);
        Assert.Equal(NetworkNamespace($"/var/run/netns/{_namespaces.Name(2)}"), NetworkNamespace($"/proc/{sleeping[0]}/ns/net"));

        // A capability publisher on another host is not heard: node 2's capability-event socket is on its loopback only.
        using (var publisher = _namespaces.Socket(1))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => publisher.ConnectAsync(c.Address, 5090));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        // A node without the broker's password cannot join: its heartbeat names the refused login; nobody lists it.
        var stranger = _namespaces.Add(3);
        var noLogin = Cluster(stranger, key);
        noLogin["MQTT:password"] = "not-the-password";
        var outsider = Start(stranger, "outsider", Rest(stranger, "outsider").Concat(noLogin).ToDictionary()).Using(_namespaces, stranger, _ca, AdminToken);
        await Wait.UntilAsync(async () =>
        {
            if (outsider.HasExited) Assert.Fail($"the outsider exited:\n{outsider.Output}");
            try
            {
                using var heartbeat = await outsider.Client.GetAsync("/v1/heartbeat");
                return heartbeat.StatusCode == HttpStatusCode.BadRequest
                    && (await heartbeat.Content.ReadAsStringAsync()).Contains("BadUserNameOrPassword", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;  // not listening yet
            }
        }, "the outsider's heartbeat says its broker login was refused", TimeSpan.FromSeconds(60), detail: () => outsider.Output);
        Assert.DoesNotContain((await a.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!, n => n.GetProperty("ip").GetString() == outsider.Address);
        await outsider.DisposeAsync();

        // A node with the broker's login but another cluster key joins the broker, yet cannot deploy: nobody answers it.
        var otherKey = Path.Combine(_folder.Path, "other.key");
        await RunMoteyAsync("keys", "generate", "--out", otherKey);
        var impostor = Start(stranger, "impostor", Rest(stranger, "impostor").Concat(Cluster(stranger, otherKey)).ToDictionary())
            .Using(_namespaces, stranger, _ca, AdminToken);
        await impostor.WaitHealthyAsync();
        var other = 86_000 + Random.Shared.Next(1000, 2000);
        _sleeps.Add(other);
        using var attempt = await impostor.Client.PostAsync("/v1/service", YamlBody.Of(Blueprint("impostor", other)));
        Assert.Equal(HttpStatusCode.Created, attempt.StatusCode);
        var attemptId = (await attempt.Content.ReadFromJsonAsync<Service>())!.Id;
        // It asks the others for their capabilities and hears nothing: the image waits, naming the silent nodes.
        var waiting = await Wait.ForAsync(async () => (await impostor.Client.GetFromJsonAsync<Service>($"/v1/service/{attemptId}"))!,
            s => s.StateMessage.Contains($"node {c.Address} did not answer", StringComparison.Ordinal), "the impostor's placement found nobody answering",
            s => $"{s.State} ({s.StateMessage})\n{impostor.Output}", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
        Assert.Equal(ServiceState.Initial, waiting.State);
        Assert.Empty(Sleeping(other));
        // The cluster is unharmed: its nodes are healthy and the first service still runs on node 2.
        foreach (var node in nodes)
        {
            using var heartbeat = await node.Client.GetAsync("/v1/heartbeat");
            Assert.Equal(HttpStatusCode.NoContent, heartbeat.StatusCode);
        }
        Assert.Single(Sleeping(seconds));
        Assert.Contains("CURVE", c.Output + a.Output, StringComparison.Ordinal);  // the refused handshakes were logged

        // Deleted through node 0, the instance on node 2 ends: terminate travels over CURVE too.
        using (var deleted = await a.Client.DeleteAsync($"/v1/service/{id}"))
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await Wait.UntilAsync(() => Sleeping(seconds).Count == 0, "the instance on node 2 is gone from the process table",
            TimeSpan.FromSeconds(30), detail: () => c.Output);
    }

    private static string Blueprint(string name, int seconds) =>
        $"service_name: {name}\nimages:\n- name: sleep\n  engine: process\n  parameters: {{args: [{seconds}]}}\n  capabilities: [lab]\n";

    /// <summary>REST on the node's own address, with TLS and tokens (nothing else is allowed there).</summary>
    private Dictionary<string, string> Rest(int node, string name)
    {
        var folder = Path.Combine(_folder.Path, name);
        Directory.CreateDirectory(folder);
        var tokens = Path.Combine(folder, "tokens");
        File.WriteAllText(tokens, $"# who may do what\nadmin {AdminToken}\nread {ReadToken}\n");
        File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var certificate = _ca.Server(name, _namespaces.Address(node));
        return new Dictionary<string, string>
        {
            ["WEBSERVER:ip"] = _namespaces.Address(node),
            ["WEBSERVER:port"] = NamespacedAgent.RestPort.ToString(),
            ["WEBSERVER:tokens"] = tokens,
            ["WEBSERVER:tls_certificate"] = certificate.Certificate,
            ["WEBSERVER:tls_key"] = certificate.Key,
        };
    }

    /// <summary>MQTT to node 0's broker with TLS and the login; ZeroMQ with <paramref name="key"/>; the process engine may run sleep.</summary>
    private Dictionary<string, string> Cluster(int node, string key) => new()
    {
        ["MQTT:broker"] = "external",
        ["MQTT:ip"] = _namespaces.Address(0),
        ["MQTT:port"] = BrokerPort.ToString(),
        ["MQTT:keepalive"] = "2",
        ["MQTT:tls"] = "true",
        ["MQTT:ca_file"] = _ca.CaFile,
        ["MQTT:username"] = MqttUser,
        ["MQTT:password"] = MqttPassword,
        ["ZEROMQ:cluster_key"] = key,
        ["ZEROMQ:capability_engine_ipc_path"] = "tcp://127.0.0.1:5090",
        ["ZEROMQ:request_timeout"] = "2",
        ["ORCHESTRATOR:reconcile_interval"] = "0.2",
        ["ORCHESTRATOR:wait_retry"] = "1",
        ["PROCESS:allowed_executables"] = "/usr/bin/sleep, /bin/sleep",
    };

    private NamespacedAgent Start(int node, string name, Dictionary<string, string> config)
    {
        var agent = NamespacedAgent.Start(_namespaces, node, Path.Combine(_folder.Path, name), config).Using(_namespaces, node, null, null);
        _agents.Add(agent);
        return agent;
    }

    private static async Task RunMoteyAsync(params string[] args)
    {
        var (code, output) = await AgentProcess.CommandAsync(args);
        Assert.True(code == 0, $"motey {string.Join(' ', args)} exited with {code}: {output}");
    }

    /// <summary>The pids of live processes whose command line is <c>sleep SECONDS</c>.</summary>
    private static List<int> Sleeping(int seconds) =>
        ProcFsProbe.Pids().Where(pid =>
        {
            try
            {
                var line = ProcFsProbe.CommandLine(pid);
                return ProcFsProbe.IsAlive(pid) && line.Count == 2 && Path.GetFileName(line[0]) == "sleep" && line[1] == seconds.ToString();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;  // gone meanwhile
            }
        }).ToList();

    /// <summary>The network namespace a path (a /proc/PID/ns/net link, a bind-mounted /var/run/netns file) stands for.</summary>
    private static string NetworkNamespace(string path) =>
        path.StartsWith("/proc/", StringComparison.Ordinal) ? new FileInfo(path).LinkTarget! : $"net:[{Inode(path)}]";

    private static ulong Inode(string path)
    {
        var info = new ProcessStartInfo("stat") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-L", "-c", "%i", path }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return ulong.Parse(text);
    }
}
