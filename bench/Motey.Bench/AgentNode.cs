using System.Net;
using System.Text;
using System.Text.Json;

namespace Motey.Bench;

/// <summary>
/// One agent started the way a user starts it (<c>motey run --config FILE</c>) on a loopback address of its own, with
/// the shipped defaults except for addresses (and the peer request timeout), plus the REST calls the benchmarks make.
/// </summary>
internal sealed class AgentNode : IAsyncDisposable
{
    public const int RestPort = 5023;
    public const int MqttPort = 1883;
    public const int CapabilityEventPort = 5090;

    private AgentNode(ChildProcess process, string address, string folder, RestSecrets secrets)
    {
        Process = process;
        Address = address;
        Folder = folder;
        Secrets = secrets;
        Http = new HttpClient(secrets.Handler())
        {
            BaseAddress = new Uri(BaseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (secrets.AdminToken is { } token) Http.DefaultRequestHeaders.Authorization = new("Bearer", token);
    }

    public ChildProcess Process { get; }
    public string Address { get; }
    public string Folder { get; }

    /// <summary>The REST API's tokens and certificate, when it has them; <see cref="Http"/> sends the admin token and trusts the certificate.</summary>
    public RestSecrets Secrets { get; }
    public HttpClient Http { get; }
    public string BaseUrl => $"{(Secrets.Tls ? "https" : "http")}://{Address}:{RestPort}";

    /// <summary>The headers wrk sends for a GET: the read token when the API wants one.</summary>
    public IReadOnlyList<string> ReadHeaders => Secrets.ReadToken is { } token ? [$"Authorization: Bearer {token}"] : [];

    /// <summary>
    /// Starts an agent with <paramref name="settings"/> (<c>SECTION:key</c> → value) over the address defaults; with
    /// <paramref name="security"/> its REST API gets tokens and/or TLS (files made in its folder, see <see cref="RestSecrets"/>).
    /// </summary>
    public static AgentNode Start(BenchContext context, string name, IReadOnlyDictionary<string, string>? settings = null,
        RestSecurity security = RestSecurity.None)
    {
        var address = context.NextAddress();
        var folder = context.NewFolder(name);
        var secrets = RestSecrets.Create(folder, address, security);
        var values = new Dictionary<string, string>
        {
            ["WEBSERVER:ip"] = address,
            ["WEBSERVER:port"] = RestPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MQTT:ip"] = address,
            ["ZEROMQ:capability_engine_ipc_path"] = $"tcp://{address}:{CapabilityEventPort}",
        };
        if (context.AgentLogLevel is { } level) values["LOGGER:level"] = level;
        foreach (var (key, value) in secrets.Settings()) values[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) values[key] = value;
        var config = Path.Combine(folder, "config.ini");
        File.WriteAllLines(config, values.GroupBy(v => v.Key.Split(':')[0])
            .SelectMany(section => section.Select(v => $"{v.Key.Split(':')[1]} = {v.Value}").Prepend($"[{section.Key}]")));
        var process = ChildProcess.Start(context.AgentExecutable, ["run", "--config", config], Path.Combine(folder, "agent.log"));
        return new AgentNode(process, address, folder, secrets);
    }

    /// <summary>Polls /v1/heartbeat every 10 ms until 204; returns the time since the process was started.</summary>
    public async Task<TimeSpan> WaitHealthyAsync(TimeSpan? timeout = null)
    {
        // No token: the heartbeat is one of the routes that stay open, as probes need.
        using var probe = new HttpClient(Secrets.Handler()) { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (Process.HasExited) throw new BenchException($"the agent on {Address} exited:\n{Process.Tail()}");
            try
            {
                using var response = await probe.GetAsync("/v1/heartbeat");
                if (response.StatusCode == HttpStatusCode.NoContent) return Process.SinceStart.Elapsed;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new BenchException($"the agent on {Address} did not become healthy:\n{Process.Tail()}");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until every plugin folder is Active; names the ones that are not after the deadline.</summary>
    public async Task<IReadOnlyList<string>> WaitPluginsActiveAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            using var plugins = JsonDocument.Parse(await Http.GetStringAsync("/v1/plugins"));
            var inactive = plugins.RootElement.EnumerateArray()
                .Where(p => p.GetProperty("state").GetString() != "Active")
                .Select(p => $"{p.GetProperty("name").GetString()} ({p.GetProperty("state").GetString()})")
                .ToList();
            var count = plugins.RootElement.GetArrayLength();
            if (inactive.Count == 0 && count > 0) return [];
            if (DateTime.UtcNow > deadline) return inactive;
            await Task.Delay(50);
        }
    }

    public async Task<List<string>> CapabilityNamesAsync()
    {
        using var list = JsonDocument.Parse(await Http.GetStringAsync("/v1/capabilities"));
        return list.RootElement.EnumerateArray().Select(c => c.GetProperty("capability").GetString()!).ToList();
    }

    /// <summary>PUT /v1/capabilities with the list; returns the status code (201 added, 304 none new).</summary>
    public async Task<HttpStatusCode> PutCapabilitiesAsync(IEnumerable<string> names, string type = "software")
    {
        using var response = await Http.PutAsync("/v1/capabilities", CapabilityBody(names, type));
        return response.StatusCode;
    }

    public async Task<HttpStatusCode> DeleteCapabilitiesAsync(IEnumerable<string> names, string type = "software")
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/capabilities") { Content = CapabilityBody(names, type) };
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    public static StringContent CapabilityBody(IEnumerable<string> names, string type) =>
        new(JsonSerializer.Serialize(names.Select(n => new Dictionary<string, string> { ["capability"] = n, ["capability_type"] = type })),
            Encoding.UTF8, "application/json");

    /// <summary>POST /v1/service with a YAML blueprint; returns the new service's id.</summary>
    public async Task<string> PostServiceAsync(string yaml)
    {
        using var content = new StringContent(yaml, Encoding.UTF8, "application/x-yaml");
        using var response = await Http.PostAsync("/v1/service", content);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created) throw new BenchException($"POST /v1/service answered {(int)response.StatusCode}: {body}");
        using var service = JsonDocument.Parse(body);
        return service.RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonDocument> GetServiceAsync(string id) =>
        JsonDocument.Parse(await Http.GetStringAsync($"/v1/service/{id}"));

    /// <summary>Polls GET /v1/service/{id} every <paramref name="pollMs"/> until its state is <paramref name="wanted"/>; throws on ERROR or timeout.</summary>
    public async Task<JsonDocument> WaitServiceStateAsync(string id, int wanted, TimeSpan timeout, int pollMs = 5)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var service = await GetServiceAsync(id);
            var state = service.RootElement.GetProperty("state").GetInt32();
            if (state == wanted) return service;
            var message = service.RootElement.GetProperty("state_message").GetString();
            service.Dispose();
            if (state == ServiceStates.Error && wanted != ServiceStates.Error)
                throw new BenchException($"service {id} is in ERROR: {message}");
            if (DateTime.UtcNow > deadline) throw new BenchException($"service {id} did not reach state {wanted} within {timeout.TotalSeconds} s (state {state}: {message})");
            await Task.Delay(pollMs);
        }
    }

    public async Task DeleteServiceAsync(string id, TimeSpan timeout)
    {
        using (var response = await Http.DeleteAsync($"/v1/service/{id}"))
        {
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new BenchException($"DELETE /v1/service/{id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        (await WaitServiceStateAsync(id, ServiceStates.Terminated, timeout, pollMs: 20)).Dispose();
    }

    public async Task<int> NodeCountAsync()
    {
        using var nodes = JsonDocument.Parse(await Http.GetStringAsync("/v1/nodes"));
        return nodes.RootElement.GetArrayLength();
    }

    /// <summary>The addresses GET /v1/nodes lists (this node's own among them).</summary>
    public async Task<HashSet<string>> NodeAddressesAsync()
    {
        using var nodes = JsonDocument.Parse(await Http.GetStringAsync("/v1/nodes"));
        return nodes.RootElement.EnumerateArray().Select(n => n.GetProperty("ip").GetString()!).ToHashSet(StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>The service states on the wire.</summary>
internal static class ServiceStates
{
    public const int Running = 2;
    public const int Terminated = 4;
    public const int Error = 5;
}

/// <summary>A benchmark could not measure what it meant to: the message says what happened.</summary>
internal sealed class BenchException(string message) : Exception(message);
