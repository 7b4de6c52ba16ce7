using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// The MQTT broker (a mosquitto of the test's own) killed and started again under running agents, and absent when an
/// agent starts: the agents stay healthy (membership degraded, not unhealthy), keep running services, and membership
/// comes back on its own.
/// </summary>
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Broker)]
public sealed class BrokerFaultTests : IAsyncLifetime
{
    private readonly TestScope _scope = new("motey-broker-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync();

    private AgentProcess StartAgent(string name, string brokerIp)
    {
        var folder = _scope.Folder(name);
        var agent = AgentProcess.Start(folder, settings: new Dictionary<string, string>
        {
            ["MQTT:broker"] = "external",
            ["MQTT:ip"] = brokerIp,
            ["MQTT:reconnect_max"] = "1",
        });
        _scope.Add(agent);
        return agent;
    }

    [Fact]
    public async Task Killing_the_broker_twice_keeps_both_nodes_healthy_and_serving_and_membership_recovers_each_time()
    {
        var broker = new MosquittoBroker(_scope.Root, AgentProcess.NextAddress());
        await broker.StartAsync();
        _scope.Add(broker);
        var a = StartAgent("a", broker.Ip);
        var b = StartAgent("b", broker.Ip);
        await Task.WhenAll(a.WaitHealthyAsync(), b.WaitHealthyAsync());
        await WaitForMembersAsync([a, b]);

        for (var round = 1; round <= 2; round++)
        {
            await broker.KillAsync();
            using var watch = new HeartbeatWatch([a, b]);
            await Faults.WaitUntilAsync(async () => await HealthAsync(a) == "Degraded" && await HealthAsync(b) == "Degraded",
                $"both nodes report membership degraded (round {round})", agent: a);
            // The node still does its own work while the broker is away.
            var local = await Faults.PostAsync(a, $"service_name: offline-{round}\nimages:\n- name: web\n  engine: simulated\n");
            await Faults.WaitForServiceAsync(a, local.Id, s => s.State == ServiceState.Running, "a service posted while the broker is down RUNNING");

            await broker.StartAsync();
            await WaitForMembersAsync([a, b]);
            await Faults.WaitUntilAsync(async () => await HealthAsync(a) == "Healthy" && await HealthAsync(b) == "Healthy",
                $"both nodes report healthy again (round {round})", agent: a);
            var failures = await watch.StopAsync();
            Assert.True(failures.Count == 0, $"round {round}: the heartbeat was not 204 while the broker was down or back:\n{string.Join("\n", failures.Take(10))}");
            Assert.True(watch.Beats >= 4, $"round {round}: only {watch.Beats} heartbeats were asked");
        }
    }

    [Fact]
    public async Task An_agent_started_while_the_broker_is_down_is_healthy_and_joins_once_the_broker_comes()
    {
        var broker = new MosquittoBroker(_scope.Root, AgentProcess.NextAddress());
        _scope.Add(broker);
        var a = StartAgent("a", broker.Ip);
        await a.WaitHealthyAsync();
        Assert.Equal("Degraded", await HealthAsync(a));
        Assert.Equal([a.Address], await MembersAsync(a));

        await broker.StartAsync();
        var b = StartAgent("b", broker.Ip);
        await b.WaitHealthyAsync();
        await WaitForMembersAsync([a, b]);
        Assert.Equal("Healthy", await HealthAsync(a));
    }

    private static async Task<string> HealthAsync(AgentProcess agent)
    {
        using var response = await agent.Client.GetAsync("/healthz");
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<List<string>> MembersAsync(AgentProcess agent) =>
        (await agent.Client.GetFromJsonAsync<List<JsonElement>>("/v1/nodes"))!.Select(n => n.GetProperty("ip").GetString()!).Order().ToList();

    private static Task WaitForMembersAsync(AgentProcess[] agents)
    {
        var expected = agents.Select(a => a.Address).Order().ToList();
        return Task.WhenAll(agents.Select(observer => Faults.WaitUntilAsync(
            async () => (await MembersAsync(observer)).SequenceEqual(expected),
            $"{observer.Address} lists [{string.Join(", ", expected)}]", agent: observer)));
    }

    /// <summary>Asks every agent's heartbeat every 100 ms until stopped; collects every answer that is not 204.</summary>
    private sealed class HeartbeatWatch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly Task _loop;
        private int _beats;

        public HeartbeatWatch(AgentProcess[] agents) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var agent in agents)
                {
                    try
                    {
                        using var response = await agent.Client.GetAsync("/v1/heartbeat", _stop.Token);
                        Interlocked.Increment(ref _beats);
                        if (response.StatusCode != HttpStatusCode.NoContent)
                            _failures.Enqueue($"{agent.Address}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                    catch (HttpRequestException e)
                    {
                        _failures.Enqueue($"{agent.Address}: no answer ({e.Message})");
                    }
                    catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                    {
                        return;
                    }
                }
                try { await Task.Delay(100, _stop.Token); }
                catch (OperationCanceledException) { return; }
            }
        });

        public int Beats => Volatile.Read(ref _beats);

        public async Task<List<string>> StopAsync()
        {
            _stop.Cancel();
            await _loop;
            return _failures.ToList();
        }

        public void Dispose() => _stop.Cancel();
    }
}
