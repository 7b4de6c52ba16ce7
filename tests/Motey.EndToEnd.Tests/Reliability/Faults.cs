using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>What the fault tests share: posting, waiting with deadlines, and counting instances where they really run.</summary>
internal static class Faults
{
    /// <summary>The pause between two looks at an agent: another process, on two cores.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<Service> PostAsync(AgentProcess agent, string yaml)
    {
        using var response = await agent.Client.PostAsync("/v1/service", YamlBody.Of(yaml));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<Service>())!;
    }

    /// <summary>Polls the service until <paramref name="condition"/> holds; the failure shows the last state and the agent's last output.</summary>
    public static Task<Service> WaitForServiceAsync(AgentProcess agent, string id, Func<Service, bool> condition, string what, int seconds = 30) =>
        Wait.ForAsync(async () => (await agent.Client.GetFromJsonAsync<Service>($"/v1/service/{id}"))!, condition, what,
            service => $"service {service.ServiceName} is {service.State}: "
                + $"{JsonSerializer.Serialize(service.Images.Select(i => new { i.Id, i.Node, i.State, i.Restarts, i.StateMessage }))}\n{Tail(agent)}",
            TimeSpan.FromSeconds(seconds), Poll);

    /// <summary>
    /// The image events the agent kept for a service (GET /v1/events replays its last 1,024), read until one matches
    /// <paramref name="last"/>: what the agent saw happen, in order, not only where it ended.
    /// </summary>
    public static async Task<List<JsonElement>> ImageEventsAsync(AgentProcess agent, string serviceId, Func<JsonElement, bool> last, int seconds = 20)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/events?after=0&service={serviceId}&types=image");
        using var response = await agent.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));
        var events = new List<JsonElement>();
        try
        {
            while (await reader.ReadLineAsync(deadline.Token) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
                var data = JsonDocument.Parse(line["data:".Length..]).RootElement.Clone();
                events.Add(data);
                if (last(data)) return events;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }
        Assert.Fail($"the events of service {serviceId} did not reach the expected one within {seconds} s: {string.Join("\n", events)}");
        return events;
    }

    /// <summary>Fails unless <paramref name="condition"/> holds at every look over <paramref name="window"/>: "no duplicate appears later".</summary>
    public static async Task HoldsForAsync(Func<Task<string?>> problem, TimeSpan window)
    {
        var end = DateTime.UtcNow + window;
        do
        {
            if (await problem() is { } wrong) Assert.Fail(wrong);
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < end);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the failure shows the last output of <paramref name="agent"/>, when named.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30, AgentProcess? agent = null) =>
        Wait.UntilAsync(condition, what, TimeSpan.FromSeconds(seconds), Poll, agent is null ? null : () => Tail(agent));

    /// <summary>The last lines the agent printed, for failure messages.</summary>
    public static string Tail(AgentProcess agent, int lines = 40) =>
        $"last output of the agent on {agent.Address}:\n" + string.Join("\n", agent.Output.Split('\n').TakeLast(lines));

    /// <summary>Containers (any state) labelled with the service id, asked of the engine itself, not through any proxy.</summary>
    public static Task<List<LocalDocker.Container>> DockerContainersAsync(string serviceId) =>
        LocalDocker.ContainersAsync($"{InstanceLabels.ServiceId}={serviceId}");

    public static async Task RemoveContainersAsync(IEnumerable<string> serviceIds)
    {
        foreach (var serviceId in serviceIds)
        {
            foreach (var container in await DockerContainersAsync(serviceId)) await LocalDocker.RemoveAsync(container.Id);
        }
    }

    public sealed record OsProcess(int Pid, char State);

    /// <summary>
    /// Live processes whose environment holds <c>name=value</c> exactly (zombies excluded, held ones included: a process
    /// VAL instance created but never started is stopped, state 'T', and is still an instance).
    /// </summary>
    public static List<OsProcess> ProcessesWithEnvironment(string name, Func<string, bool> value)
    {
        var found = new List<OsProcess>();
        foreach (var pid in ProcFsProbe.Pids())
        {
            try
            {
                if (ProcFsProbe.State(pid) is not { } state || state is 'Z' or 'X') continue;
                if (ProcFsProbe.Environment(pid).Any(e => e.StartsWith(name + "=", StringComparison.Ordinal) && value(e[(name.Length + 1)..])))
                    found.Add(new OsProcess(pid, state));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>SIGKILL to each process named: what a failed test leaves behind must not outlive the run.</summary>
    public static void KillAll(IEnumerable<OsProcess> processes)
    {
        foreach (var process in processes) Signals.Kill(process.Pid);
    }
}
