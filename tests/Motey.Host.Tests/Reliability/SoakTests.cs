using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// Eight clients mix every REST call for a bounded time against one node. Each client owns its capabilities and its
/// services, so it knows exactly what every answer must be: 201 or 304 from its own model, its own writes visible to its
/// next read, its services never lost. Afterwards the store is consistent, and a node restarted on the same folder lists
/// all of it.
/// </summary>
public sealed class SoakTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int ServicesPerClient = 12;
    private static readonly TimeSpan Traffic = TimeSpan.FromSeconds(12);
    private static readonly string[] SharedCapabilities = ["soak-shared-0", "soak-shared-1", "soak-shared-2"];

    /// <summary>What one client did and must now find.</summary>
    private sealed class Client(int number)
    {
        public int Number { get; } = number;
        public Random Dice { get; } = new(number);  // the same sequence of choices every run
        public HashSet<string> Capabilities { get; } = [];
        public Dictionary<string, Posted> Services { get; } = [];
        public int Requests { get; set; }
        public string Own(int k) => $"soak-c{Number}-k{k}";
    }

    private sealed record Posted(string Id, string Name, int Index, bool Fails)
    {
        public bool Deleted { get; set; }
        public ServiceState Expected => Deleted ? ServiceState.Terminated : Fails ? ServiceState.Error : ServiceState.Running;
    }

    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentDictionary<string, int> _sharedCreated = new();

    [Fact]
    public async Task Mixed_concurrent_traffic_gives_no_5xx_keeps_the_store_consistent_and_survives_a_restart()
    {
        using var folder = new TestFolder();
        var settings = new Dictionary<string, string> { ["SIMULATED:start_delay_ms"] = "20" };
        var clients = Enumerable.Range(0, Clients).Select(n => new Client(n)).ToList();
        await using (var node = await TestNode.StartAsync(folder, [TestNode.Simulated], settings))
        {
            var until = Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(c => Task.Run(() => RunClientAsync(node, c, until))));
            var requests = clients.Sum(c => c.Requests);
            var services = clients.Sum(c => c.Services.Count);
            output.WriteLine($"{requests} requests from {Clients} clients in {Traffic.TotalSeconds} s; {services} services posted, "
                + $"{clients.Sum(c => c.Services.Values.Count(s => s.Deleted))} deleted; {clients.Sum(c => c.Capabilities.Count)} own capabilities left");
            Assert.True(requests >= 1000 && services >= Clients * ServicesPerClient / 2, $"too little traffic to judge: {requests} requests, {services} services");
            var problems = _problems.ToList();
            Assert.True(problems.Count == 0,
                $"{problems.Count} wrong answers in {clients.Sum(c => c.Requests)} requests:\n{string.Join("\n", problems.Take(30))}");
            Assert.All(SharedCapabilities, name => Assert.Equal(1, _sharedCreated.GetValueOrDefault(name)));

            await AssertStoreMatchesAsync(node, clients, "after the traffic", restarts: 0);
        }
        AssertIntegrity(folder);

        // A node on the same folder and database finds all of it. Simulated instances are kept in the VAL's data folder,
        // so running services find their instances again: none is replaced.
        await using (var restarted = await TestNode.StartAsync(folder, [TestNode.Simulated], settings))
            await AssertStoreMatchesAsync(restarted, clients, "after a restart on the same folder", restarts: 0);
        AssertIntegrity(folder);
    }

    private async Task RunClientAsync(TestNode node, Client client, Stopwatch clock)
    {
        using var http = new HttpClient { BaseAddress = node.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var posted = 0;
        while (clock.Elapsed < Traffic)
        {
            client.Requests++;
            var roll = client.Dice.Next(100);
            try
            {
                switch (roll)
                {
                    case < 15: await PutOwnAsync(http, client); break;
                    case < 25: await DeleteOwnAsync(http, client); break;
                    case < 30: await PutSharedAsync(http, client); break;
                    case < 45: await ReadCapabilitiesAsync(http, client); break;
                    case < 55 when posted < ServicesPerClient: await PostAsync(http, client, posted++); break;
                    case < 62: await DeleteServiceAsync(http, client); break;
                    case < 72: await ReadServicesAsync(http, client); break;
                    case < 80: await ReadOwnServiceAsync(http, client); break;
                    case < 87: await ExpectAsync(http.GetAsync("/v1/nodestatus"), HttpStatusCode.OK, "GET nodestatus"); break;
                    case < 94: await ExpectAsync(http.GetAsync("/v1/heartbeat"), HttpStatusCode.NoContent, "GET heartbeat"); break;
                    default: await ExpectAsync(http.GetAsync("/v1/nodes"), HttpStatusCode.OK, "GET nodes"); break;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _problems.Enqueue($"client {client.Number}: no answer: {e.Message}");
            }
        }
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static string List(IEnumerable<string> names) =>
        "[" + string.Join(", ", names.Select(n => $$"""{"capability": "{{n}}", "capability_type": "soak"}""")) + "]";

    private IEnumerable<string> Pick(Client client) =>
        Enumerable.Range(0, 4).Where(_ => client.Dice.Next(2) == 0).DefaultIfEmpty(client.Dice.Next(4)).Select(client.Own).ToList();

    private async Task PutOwnAsync(HttpClient http, Client client)
    {
        var names = Pick(client).ToList();
        var expected = names.Any(n => !client.Capabilities.Contains(n)) ? HttpStatusCode.Created : HttpStatusCode.NotModified;
        using var response = await http.PutAsync("/v1/capabilities", Json(List(names)));
        if (Check(response, expected, $"client {client.Number}: PUT {string.Join(", ", names)}")) client.Capabilities.UnionWith(names);
    }

    private async Task DeleteOwnAsync(HttpClient http, Client client)
    {
        var names = Pick(client).ToList();
        var expected = names.Any(client.Capabilities.Contains) ? HttpStatusCode.Created : HttpStatusCode.NotModified;
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/capabilities") { Content = Json(List(names)) };
        using var response = await http.SendAsync(request);
        if (Check(response, expected, $"client {client.Number}: DELETE {string.Join(", ", names)}")) client.Capabilities.ExceptWith(names);
    }

    /// <summary>All clients add the same few capabilities: exactly one of them may be told it created each.</summary>
    private async Task PutSharedAsync(HttpClient http, Client client)
    {
        var name = SharedCapabilities[client.Dice.Next(SharedCapabilities.Length)];
        using var response = await http.PutAsync("/v1/capabilities", Json(List([name])));
        if (response.StatusCode == HttpStatusCode.Created) _sharedCreated.AddOrUpdate(name, 1, (_, n) => n + 1);
        else Check(response, HttpStatusCode.NotModified, $"client {client.Number}: PUT shared {name}");
    }

    /// <summary>Read your own writes: nobody else touches this client's capabilities, so the list shows exactly its model.</summary>
    private async Task ReadCapabilitiesAsync(HttpClient http, Client client)
    {
        using var response = await http.GetAsync("/v1/capabilities");
        if (!Check(response, HttpStatusCode.OK, $"client {client.Number}: GET capabilities")) return;
        var list = (await response.Content.ReadFromJsonAsync<List<Capability>>())!;
        var mine = list.Where(c => c.Name.StartsWith($"soak-c{client.Number}-", StringComparison.Ordinal)).Select(c => c.Name).ToHashSet();
        if (!mine.SetEquals(client.Capabilities))
            _problems.Enqueue($"client {client.Number}: GET capabilities shows [{string.Join(", ", mine.Order())}], its model is [{string.Join(", ", client.Capabilities.Order())}]");
        if (!list.Contains(new Capability("simulated", Capability.PluginType)))
            _problems.Enqueue($"client {client.Number}: GET capabilities lost the simulated plugin capability");
    }

    private async Task PostAsync(HttpClient http, Client client, int index)
    {
        var fails = index % 4 == 3;
        var name = $"soak-c{client.Number}-s{index}";
        var yaml = $"service_name: {name}\nimages:\n- name: web\n  engine: simulated\n  parameters: {{start_delay_ms: {client.Dice.Next(10, 200)}, fail: {(fails ? "true" : "false")}}}\n";
        using var response = await http.PostAsync("/v1/service", YamlBody.Of(yaml));
        if (!Check(response, HttpStatusCode.Created, $"client {client.Number}: POST {name}")) return;
        var service = (await response.Content.ReadFromJsonAsync<Service>())!;
        client.Services[service.Id] = new Posted(service.Id, name, index, fails);
    }

    /// <summary>
    /// By id route or by a YAML selector (by id or by its unique name), each service at most once; only every other
    /// service, so the end state holds running, failed and terminated services.
    /// </summary>
    private async Task DeleteServiceAsync(HttpClient http, Client client)
    {
        var live = client.Services.Values.Where(s => !s.Deleted && s.Index % 2 == 0).ToList();
        if (live.Count == 0) return;
        var target = live[client.Dice.Next(live.Count)];
        HttpResponseMessage response;
        HttpStatusCode expected;
        switch (client.Dice.Next(3))
        {
            case 0:
                response = await http.DeleteAsync($"/v1/service/{target.Id}");
                expected = HttpStatusCode.Accepted;
                break;
            default:
                var selector = client.Dice.Next(2) == 0 ? $"id: {target.Id}\n" : $"service_name: {target.Name}\n";
                using (var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/service") { Content = YamlBody.Of(selector) })
                    response = await http.SendAsync(request);
                expected = HttpStatusCode.Created;
                break;
        }
        using (response)
        {
            if (Check(response, expected, $"client {client.Number}: DELETE service {target.Name}")) target.Deleted = true;
        }
    }

    private async Task ReadServicesAsync(HttpClient http, Client client)
    {
        using var response = await http.GetAsync("/v1/service");
        if (!Check(response, HttpStatusCode.OK, $"client {client.Number}: GET service")) return;
        var ids = (await response.Content.ReadFromJsonAsync<List<Service>>())!.Select(s => s.Id).ToHashSet();
        foreach (var id in client.Services.Keys.Where(id => !ids.Contains(id)))
            _problems.Enqueue($"client {client.Number}: GET service does not list {client.Services[id].Name} ({id}), posted with 201");
    }

    private async Task ReadOwnServiceAsync(HttpClient http, Client client)
    {
        if (client.Services.Count == 0) return;
        var target = client.Services.Values.ElementAt(client.Dice.Next(client.Services.Count));
        using var response = await http.GetAsync($"/v1/service/{target.Id}");
        Check(response, HttpStatusCode.OK, $"client {client.Number}: GET service {target.Name}");
    }

    private async Task ExpectAsync(Task<HttpResponseMessage> send, HttpStatusCode expected, string what)
    {
        using var response = await send;
        Check(response, expected, what);
    }

    /// <summary>True when the status is the expected one; records the answer otherwise (5xx included, with the body).</summary>
    private bool Check(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode == expected) return true;
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        _problems.Enqueue($"{what}: expected {(int)expected}, got {(int)response.StatusCode} {(body.Length > 200 ? body[..200] : body)}");
        return false;
    }

    /// <summary>
    /// The capabilities are the clients' models plus the shared ones; every posted service is there once and settles as
    /// expected, a running one after exactly <paramref name="restarts"/> replacements of its instance.
    /// </summary>
    private static async Task AssertStoreMatchesAsync(TestNode node, List<Client> clients, string when, int restarts)
    {
        var capabilities = (await node.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities"))!;
        var expected = clients.SelectMany(c => c.Capabilities).Concat(SharedCapabilities).Select(n => new Capability(n, "soak"))
            .Append(new Capability("simulated", Capability.PluginType)).ToHashSet();
        Assert.True(expected.SetEquals(capabilities),
            $"{when}: the capabilities are [{string.Join(", ", capabilities)}], the clients' models say [{string.Join(", ", expected)}]");

        var posted = clients.SelectMany(c => c.Services.Values).ToDictionary(s => s.Id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var services = (await node.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!;
            Assert.Equal(services.Count, services.Select(s => s.Id).Distinct().Count());
            Assert.True(posted.Keys.ToHashSet().SetEquals(services.Select(s => s.Id)),
                $"{when}: the node lists {services.Count} services, {posted.Count} were posted with 201");
            var unsettled = services.Where(s => s.State != posted[s.Id].Expected
                || (s.State == ServiceState.Running && s.Images.Single().Restarts != restarts)).ToList();
            if (unsettled.Count == 0) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{when}: {unsettled.Count} services did not settle:\n"
                    + string.Join("\n", unsettled.Take(10).Select(s => $"{s.ServiceName} is {s.State} after {s.Images.Single().Restarts} restarts ({s.StateMessage}), expected {posted[s.Id].Expected}")));
            await Task.Delay(100);
        }
    }

    private static void AssertIntegrity(TestFolder folder)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder.Path, "data", "motey.db")};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", command.ExecuteScalar());
    }
}
