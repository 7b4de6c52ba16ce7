using System.Diagnostics;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Motey.Bench;

/// <summary>
/// 2. Deploy: POST of a Docker blueprint until GET says RUNNING, against creating and starting the same containers
/// directly through the engine API (Docker.DotNet: create, start, inspect until running), one after another.
/// </summary>
internal static class DeployBench
{
    public const string Image = "motey/busybox:local";
    private const string DirectLabel = "motey.bench.direct";

    public static async Task RunAsync(BenchContext context, Report report)
    {
        var section = report.Section("2. Deploy on Docker", "Motey agent (POST → RUNNING)", "engine API direct");
        section.Intro.Add($"Image `{Image}` (local), `command: [sleep, N]`, `network_mode: none`, init on. Agent: POST the blueprint, poll GET /v1/service/{{id}} every 5 ms until RUNNING. "
            + "Direct: Docker.DotNet create + start + inspect (running) per container, one after another. Each run's containers are removed before the next. "
            + $"One untimed warm-up of each first; {context.Runs} runs.");
        section.Intro.Add($"Load average at start: {BenchContext.LoadAverage()}.");

        using var docker = new DockerClientConfiguration(new Uri(context.DockerUrl)).CreateClient();
        await docker.Images.InspectImageAsync(Image);  // present: the benchmark measures starts, not pulls
        var present = await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true });
        section.Intro.Add($"Containers on the engine when it started (any session's): {present.Count}; the agent lists the managed ones on every deploy (its adoption check).");

        await using var agent = AgentNode.Start(context, "deploy");
        await agent.WaitHealthyAsync();
        var inactive = await agent.WaitPluginsActiveAsync();
        if (inactive.Count > 0) throw new BenchException($"plugins not active: {string.Join(", ", inactive)}");
        try
        {
            var one = (Agent: new Series("ms"), Direct: new Series("ms"));
            var ten = (Agent: new Series("ms"), Direct: new Series("ms"));
            await AgentDeployAsync(agent, 1, "warmup");
            await DirectDeployAsync(docker, 1);
            for (var run = 1; run <= context.Runs; run++)
            {
                context.Log($"Deploy: run {run}/{context.Runs} (load {BenchContext.LoadAverage()})");
                one.Agent.Add(await AgentDeployAsync(agent, 1, $"one-{run}"));
                one.Direct.Add(await DirectDeployAsync(docker, 1));
                ten.Agent.Add(await AgentDeployAsync(agent, 10, $"ten-{run}"));
                ten.Direct.Add(await DirectDeployAsync(docker, 10));
            }
            section.Add("one image", "time to RUNNING", one.Agent, one.Direct);
            section.Add("ten images", "time to RUNNING", ten.Agent, ten.Direct);
            var perImage = (Agent: new Series("ms"), Direct: new Series("ms"));
            foreach (var v in ten.Agent.Values) perImage.Agent.Add(v / 10);
            foreach (var v in ten.Direct.Values) perImage.Direct.Add(v / 10);
            section.Add("ten images", "per image", perImage.Agent, perImage.Direct);
        }
        finally
        {
            var removed = await CleanUpAsync(docker, agent.Address);
            section.Notes.Add($"Clean-up: {removed} containers left by this benchmark removed (expected 0: the agent removes its own on DELETE).");
            section.Notes.Add($"Load average at end: {BenchContext.LoadAverage()}.");
        }
    }

    private static string Blueprint(int images, string tag)
    {
        var lines = new List<string> { $"service_name: bench-deploy-{tag}", "images:" };
        for (var i = 0; i < images; i++)
        {
            lines.Add($"- name: {Image}");
            lines.Add("  engine: docker");
            lines.Add($"  parameters: {{command: [sleep, \"{3600 + i}\"], network_mode: none}}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>POST to RUNNING in ms; then DELETE and wait for TERMINATED (the agent stops and removes the containers).</summary>
    private static async Task<double> AgentDeployAsync(AgentNode agent, int images, string tag)
    {
        var yaml = Blueprint(images, tag);
        var clock = Stopwatch.StartNew();
        var id = await agent.PostServiceAsync(yaml);
        (await agent.WaitServiceStateAsync(id, ServiceStates.Running, TimeSpan.FromSeconds(120))).Dispose();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await agent.DeleteServiceAsync(id, TimeSpan.FromSeconds(120));
        return elapsed;
    }

    /// <summary>Create, start and inspect each container, one after another, in ms; then remove them (untimed).</summary>
    private static async Task<double> DirectDeployAsync(DockerClient docker, int images)
    {
        var ids = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < images; i++)
        {
            var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = Image,
                Cmd = ["sleep", (3600 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)],
                Labels = new Dictionary<string, string> { [DirectLabel] = "true" },
                HostConfig = new HostConfig { NetworkMode = "none", Init = true },
            });
            ids.Add(created.ID);
            await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
            var inspected = await docker.Containers.InspectContainerAsync(created.ID);
            if (inspected.State?.Running != true) throw new BenchException($"container {created.ID} is not running after start: {inspected.State?.Status}");
        }
        var elapsed = clock.Elapsed.TotalMilliseconds;
        foreach (var id in ids) await docker.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
        return elapsed;
    }

    /// <summary>Removes this benchmark's containers: the direct ones, and any the agent on <paramref name="agentAddress"/> left.</summary>
    public static async Task<int> CleanUpAsync(DockerClient docker, string agentAddress)
    {
        var removed = 0;
        foreach (var label in new[] { $"{DirectLabel}=true", $"motey.node={agentAddress}" })
        {
            var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [label] = true } },
            });
            foreach (var container in containers)
            {
                await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
                removed++;
            }
        }
        return removed;
    }
}
