using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.EndToEnd.Tests.Reliability;

/// <summary>
/// kill -9 of the agent in the middle of deploys, then a restart on the same folder: every service accepted with 201 is
/// there exactly once and reaches RUNNING with exactly one instance per image, counted where instances really run
/// (OS processes by their environment, containers by their labels at the engine).
/// </summary>
// Docker for every test, the process ones too: the cleanup removes the containers of every service it posted.
[Trait(Categories.Name, Categories.EndToEnd)]
[Trait(Categories.Name, Categories.Docker)]
public sealed class KillDuringDeployTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string TagVariable = "MOTEY_RELIABILITY_TAG";

    private readonly TestScope _scope = new("motey-kill-");
    private readonly string _run = Guid.NewGuid().ToString("N");
    private readonly List<string> _services = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _scope.StopAsync(async () =>
    {
        Faults.KillAll(Faults.ProcessesWithEnvironment(TagVariable, v => v.StartsWith(_run, StringComparison.Ordinal)));
        await Faults.RemoveContainersAsync(_services);
    });

    /// <summary>The policy the process tests need: the agent may run sleep.</summary>
    private static readonly Dictionary<string, string> RunsSleep = new() { ["PROCESS:allowed_executables"] = "/bin/sleep, /usr/bin/sleep" };

    [Fact]
    public async Task Kill_9_right_after_the_201s_of_process_deploys_then_restart_runs_every_image_exactly_once()
    {
        var agent = AgentProcess.Start(_scope.Root, settings: RunsSleep);
        await agent.WaitHealthyAsync();
        // Two images per service, each a `sleep` marked by its own tag; all are posted before the agent dies, so the kill
        // lands while the orchestrator works through them (deploys of different services run in parallel).
        const int Services = 6;
        var tags = new Dictionary<(string Service, int Image), string>();
        for (var s = 0; s < Services; s++)
        {
            var yaml = $"service_name: deploy-{s}\nimages:\n"
                + string.Concat(Enumerable.Range(0, 2).Select(i => $"- name: sleep\n  engine: process\n  parameters: {{args: [300], env: {{{TagVariable}: {_run}-s{s}-i{i}}}}}\n"));
            var service = await Faults.PostAsync(agent, yaml);
            _services.Add(service.Id);
            for (var i = 0; i < 2; i++) tags[(service.Id, i)] = $"{_run}-s{s}-i{i}";
        }
        agent.Kill();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();

        var restarted = agent.Restart();
        _scope.Add(restarted);
        await restarted.WaitHealthyAsync();
        var listed = (await restarted.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!;
        Assert.Equal(_services.Order(), listed.Select(s => s.Id).Order());

        foreach (var id in _services)
            await Faults.WaitForServiceAsync(restarted, id, s => s.State == ServiceState.Running, $"service {id} RUNNING after the restart");
        // Nothing starts a second copy later either: watch the processes over a few reconcile passes.
        await Faults.HoldsForAsync(async () =>
        {
            var services = (await restarted.Client.GetFromJsonAsync<List<Service>>("/v1/service"))!;
            foreach (var ((serviceId, index), tag) in tags)
            {
                var processes = Faults.ProcessesWithEnvironment(TagVariable, v => v == tag);
                var image = services.Single(s => s.Id == serviceId).Images[index];
                if (processes.Count != 1)
                    return $"image {index} of service {serviceId} (instance {image.Id}) has {processes.Count} processes: "
                        + string.Join(", ", processes.Select(p => $"pid {p.Pid} state {p.State} {(HasRecord(p.Pid) ? "with" : "without")} an instance record"));
                if (processes[0].State == 'T')
                    return $"image {index} of service {serviceId} is a process created but never started (pid {processes[0].Pid}, stopped)";
                if (!image.Id.StartsWith($"{processes[0].Pid}-", StringComparison.Ordinal))
                    return $"image {index} of service {serviceId} names instance {image.Id}, but its process is pid {processes[0].Pid}";
            }
            return null;
        }, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Kill_9_the_moment_the_process_val_launches_an_instance_then_restart_runs_it_exactly_once()
    {
        var agent = AgentProcess.Start(_scope.Root, settings: RunsSleep);
        await agent.WaitHealthyAsync();
        // The launcher's first act is to open its log in the VAL's logs folder; the agent records the instance only once
        // the launcher holds itself before its program, a few milliseconds later. Freeze the agent the moment the log
        // appears, then kill it: most often it dies before the record is written, the narrowest window there is.
        var logs = Path.Combine(_scope.Root, "data", "plugins", "process", "logs");
        var pid = agent.Pid;
        var frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fired = 0;
        using var watcher = new FileSystemWatcher(logs, "pending-*");
        watcher.Created += (_, _) =>
        {
            // Once only: later the pid may belong to another process.
            if (Interlocked.Exchange(ref fired, 1) != 0) return;
            Signals.Freeze(pid);
            frozen.TrySetResult();
        };
        watcher.EnableRaisingEvents = true;
        var tag = $"{_run}-launch";
        var service = await Faults.PostAsync(agent, $"service_name: launch\nimages:\n- name: sleep\n  engine: process\n  parameters: {{args: [300], env: {{{TagVariable}: {tag}}}}}\n");
        _services.Add(service.Id);
        await frozen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        watcher.EnableRaisingEvents = false;
        agent.Kill();
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();
        var left = Faults.ProcessesWithEnvironment(TagVariable, v => v == tag);
        output.WriteLine("killed while launching: " + string.Join(", ", left.Select(p => $"pid {p.Pid} state {p.State} {(HasRecord(p.Pid) ? "with" : "without")} an instance record")));

        var restarted = agent.Restart();
        _scope.Add(restarted);
        await restarted.WaitHealthyAsync();
        var running = await Faults.WaitForServiceAsync(restarted, service.Id, s => s.State == ServiceState.Running,
            "the service RUNNING after the restart", seconds: 20);
        await Faults.HoldsForAsync(() =>
        {
            var processes = Faults.ProcessesWithEnvironment(TagVariable, v => v == tag);
            string? problem = processes switch
            {
                [{ State: not 'T' } only] when running.Images.Single().Id.StartsWith($"{only.Pid}-", StringComparison.Ordinal) => null,
                _ => $"the image (instance {running.Images.Single().Id}) has {processes.Count} processes: "
                    + string.Join(", ", processes.Select(p => $"pid {p.Pid} state {p.State} {(HasRecord(p.Pid) ? "with" : "without")} an instance record")),
            };
            return Task.FromResult(problem);
        }, TimeSpan.FromSeconds(2));
    }

    /// <summary>Whether the process VAL keeps a record of an instance with this pid (records are named &lt;pid&gt;-&lt;start time&gt;.json).</summary>
    private bool HasRecord(int pid)
    {
        var records = Path.Combine(_scope.Root, "data", "plugins", "process", "instances");
        return Directory.Exists(records) && Directory.GetFiles(records, $"{pid}-*").Length > 0;
    }

    public static TheoryData<string, bool> Moments => new()
    {
        { "created, its start not yet at the engine", false },
        { "started by the engine, the answer not yet at the agent", true },
    };

    [Theory]
    [MemberData(nameof(Moments))]
    public async Task Kill_9_in_the_middle_of_a_docker_deploy_then_restart_runs_the_container_exactly_once(string moment, bool engineStartedIt)
    {
        await LocalDocker.RequireAsync();
        await using var proxy = new EngineProxy(Path.Combine(_scope.Root, "docker.sock"));
        proxy.Start();
        var agent = AgentProcess.Start(_scope.Root, settings: new Dictionary<string, string>
        {
            ["DOCKER:url"] = proxy.Url,
            ["DOCKER:stop_timeout"] = "1",
        });
        await agent.WaitHealthyAsync();
        var held = proxy.Hold(new Regex(@"^POST \S*/containers/[0-9a-f]+/start", RegexOptions.Multiline), forwardFirst: engineStartedIt);

        var service = await Faults.PostAsync(agent, "service_name: boxed\nimages:\n- name: motey/busybox:local\n  engine: docker\n  parameters: {command: [sleep, \"300\"], network_mode: none}\n");
        _services.Add(service.Id);
        await held.WaitAsync(TimeSpan.FromSeconds(60));
        agent.Kill();  // the deploy is frozen exactly at the chosen moment
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await agent.DisposeAsync();
        // The engine finishes what it was asked before the kill; the agent never heard of it.
        var expected = engineStartedIt ? "running" : "created";
        await Faults.WaitUntilAsync(async () => (await Faults.DockerContainersAsync(service.Id)) is [{ } only] && only.State == expected,
            $"the engine holds one container of the service, {expected}");

        var restarted = agent.Restart();
        _scope.Add(restarted);
        await restarted.WaitHealthyAsync();
        var running = await Faults.WaitForServiceAsync(restarted, service.Id, s => s.State == ServiceState.Running,
            $"the service killed at '{moment}' RUNNING after the restart", seconds: 20);
        await Faults.HoldsForAsync(async () =>
        {
            var now = await Faults.DockerContainersAsync(service.Id);
            if (now.Count != 1) return $"{now.Count} containers for one image: {string.Join(", ", now.Select(c => $"{c.Id[..12]} {c.State}"))}";
            if (now[0].State != "running") return $"the container is {now[0].State}";
            return now[0].Id == running.Images.Single().Id ? null : $"the service names {running.Images.Single().Id}, the engine runs {now[0].Id}";
        }, TimeSpan.FromSeconds(2));
    }
}
