using Docker.DotNet.Models;
using Motey.Abstractions;
using Motey.Val.Docker.Parameters;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>Each blueprint parameter and the create-container option it becomes (no engine needed).</summary>
public sealed class ContainerParametersTests
{
    /// <summary>The policy these tests need: binds under /srv and the host's network.</summary>
    private static readonly DockerPolicy Policy = DockerPolicy.Closed with { AllowHostNetwork = true, AllowedBindPaths = ["/srv"] };

    private static CreateContainerParameters Build(string parametersJson, IReadOnlyDictionary<string, string>? labels = null)
    {
        var problems = new List<string>();
        var create = ContainerParameters.Build(Spec("nginx:1.25", parametersJson, labels), Policy, problems);
        Assert.Empty(problems);
        return create;
    }

    [Fact]
    public void No_parameters_give_the_image_its_own_command_the_engine_init_and_the_labels()
    {
        var labels = new Dictionary<string, string> { [InstanceLabels.ServiceId] = "s1", [InstanceLabels.ImageIndex] = "0" };

        var create = Build("{}", labels);

        Assert.Equal("nginx:1.25", create.Image);
        Assert.Null(create.Name);
        Assert.Null(create.Cmd);
        Assert.Null(create.Env);
        Assert.Null(create.ExposedPorts);
        Assert.True(create.HostConfig.Init);
        Assert.Null(create.HostConfig.NetworkMode);
        Assert.Null(create.HostConfig.Binds);
        Assert.Null(create.HostConfig.PortBindings);
        Assert.Null(create.HostConfig.RestartPolicy);
        Assert.Equal(0, create.HostConfig.Memory);
        Assert.Equal(0, create.HostConfig.NanoCPUs);
        Assert.Equal(
            new Dictionary<string, string>
            {
                [InstanceLabels.ServiceId] = "s1", [InstanceLabels.ImageIndex] = "0",
                ["motey.managed"] = "true", ["motey.image.name"] = "nginx:1.25",
            },
            create.Labels);
    }

    [Fact]
    public void Name_becomes_the_container_name()
    {
        Assert.Equal("alpine_from_motey", Build("""{"name": "alpine_from_motey"}""").Name);
        Assert.Equal("web.1-a", Build("""{"name": "/web.1-a"}""").Name);
    }

    [Fact]
    public void Ports_are_exposed_and_bound_to_host_ports()
    {
        var create = Build("""{"ports": {"80/tcp": 8080, "443": "8443", "53/UDP": 5353, "9000/tcp": null}}""");

        Assert.Equal(new HashSet<string> { "80/tcp", "443/tcp", "53/udp", "9000/tcp" }, create.ExposedPorts.Keys.ToHashSet());
        Assert.Equal("8080", Assert.Single(create.HostConfig.PortBindings["80/tcp"]).HostPort);
        Assert.Equal("8443", Assert.Single(create.HostConfig.PortBindings["443/tcp"]).HostPort);
        Assert.Equal("5353", Assert.Single(create.HostConfig.PortBindings["53/udp"]).HostPort);
        Assert.Equal("", Assert.Single(create.HostConfig.PortBindings["9000/tcp"]).HostPort); // the engine picks one
    }

    [Fact]
    public void Environment_as_a_map_or_a_list_becomes_name_value_strings()
    {
        Assert.Equal(["MODE=prod", "PORT=8080", "DEBUG=false", "EMPTY="],
            Build("""{"environment": {"MODE": "prod", "PORT": 8080, "DEBUG": false, "EMPTY": ""}}""").Env);
        Assert.Equal(["MODE=prod", "URL=http://x/?a=b"], Build("""{"environment": ["MODE=prod", "URL=http://x/?a=b"]}""").Env);
    }

    [Fact]
    public void Command_as_a_list_or_a_string_split_into_words_replaces_the_image_command()
    {
        Assert.Equal(["sleep", "300"], Build("""{"command": ["sleep", 300]}""").Cmd);
        Assert.Equal(["sh", "-c", "echo \"hi there\" > /data/out"], Build("""{"command": "sh -c 'echo \"hi there\" > /data/out'"}""").Cmd);
        Assert.Equal(["echo", "a b", "c\\d", "$HOME"], Build("""{"command": "echo \"a b\" c\\\\d '$HOME'"}""").Cmd);
    }

    [Fact]
    public void Volumes_as_a_map_or_a_list_become_binds()
    {
        Assert.Equal(["/srv/data:/data", "/srv/conf:/etc/app:ro", "cache:/cache:rw"],
            Build("""{"volumes": {"/srv/data": "/data", "/srv/conf": {"bind": "/etc/app", "mode": "ro"}, "cache": {"bind": "/cache", "mode": "rw"}}}""").HostConfig.Binds);
        Assert.Equal(["/srv/data:/data", "/srv/conf:/etc/app:ro"],
            Build("""{"volumes": ["/srv/data:/data", "/srv/conf:/etc/app:ro"]}""").HostConfig.Binds);
    }

    [Fact]
    public void Network_mode_is_set()
    {
        Assert.Equal("host", Build("""{"network_mode": "host"}""").HostConfig.NetworkMode);
        Assert.Equal("container:db", Build("""{"network_mode": "container:db"}""").HostConfig.NetworkMode);
    }

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("\"512m\"", 512L * 1024 * 1024)]
    [InlineData("\"1g\"", 1024L * 1024 * 1024)]
    [InlineData("\"1.5G\"", 1536L * 1024 * 1024)]
    [InlineData("\"100k\"", 102400L)]
    [InlineData("\"256mb\"", 256L * 1024 * 1024)]
    [InlineData("\"4096b\"", 4096L)]
    [InlineData("\"4096\"", 4096L)]
    public void Mem_limit_becomes_the_memory_limit_in_bytes(string value, long bytes)
    {
        Assert.Equal(bytes, Build($$"""{"mem_limit": {{value}}}""").HostConfig.Memory);
    }

    [Fact]
    public void Cpus_and_nano_cpus_become_nano_cpus()
    {
        Assert.Equal(1_500_000_000L, Build("""{"cpus": 1.5}""").HostConfig.NanoCPUs);
        Assert.Equal(250_000_000L, Build("""{"cpus": 0.25}""").HostConfig.NanoCPUs);
        Assert.Equal(2_000_000_000L, Build("""{"cpus": 2}""").HostConfig.NanoCPUs);
        Assert.Equal(500_000_000L, Build("""{"nano_cpus": 500000000}""").HostConfig.NanoCPUs);
    }

    [Theory]
    [InlineData("\"always\"")]
    [InlineData("\"on-failure\"")]
    [InlineData("\"never\"")]
    [InlineData("{\"Name\": \"on-failure\", \"MaximumRetryCount\": 5}")]
    [InlineData("{\"Name\": \"unless-stopped\"}")]
    [InlineData("{\"Name\": \"no\"}")]
    public void Restart_policy_is_accepted_but_left_to_the_agent(string value)
    {
        Assert.Null(Build($$"""{"restart_policy": {{value}}}""").HostConfig.RestartPolicy);
    }

    [Fact]
    public void Detach_is_accepted_and_changes_nothing()
    {
        var create = Build("""{"detach": false}""");

        Assert.Null(create.Cmd);
        Assert.False(create.AttachStdout);
        Assert.True(create.HostConfig.Init);
    }

    [Fact]
    public void Init_can_be_turned_off()
    {
        Assert.False(Build("""{"init": false}""").HostConfig.Init);
        Assert.True(Build("""{"init": true}""").HostConfig.Init);
    }

    [Fact]
    public void Labels_join_the_agents_labels_which_win_over_them()
    {
        var agent = new Dictionary<string, string> { [InstanceLabels.ServiceId] = "s1", ["team"] = "agent" };

        var labels = Build("""{"labels": {"team": "blueprint", "tier": 2, "public": true}}""", agent).Labels;

        Assert.Equal("agent", labels["team"]);
        Assert.Equal("2", labels["tier"]);
        Assert.Equal("true", labels["public"]);
        Assert.Equal("s1", labels[InstanceLabels.ServiceId]);
        Assert.Equal("true", labels["motey.managed"]);
    }

    [Fact]
    public void The_seed_blueprints_parameters_are_valid()
    {
        var create = Build("""{"ports": {"80/tcp": 8080}, "name": "alpine_from_motey", "detach": true}""");

        Assert.Equal("alpine_from_motey", create.Name);
        Assert.Equal("8080", create.HostConfig.PortBindings["80/tcp"].Single().HostPort);
    }

    [Fact]
    public void The_plugin_validates_through_the_same_mapper()
    {
        var val = new DockerVal();

        Assert.Empty(val.ValidateParameters(ParametersOf("""{"name": "web", "ports": {"80": 80}, "cpus": 1}""")));
        Assert.Equal(["parameters.colour: unknown parameter (known: " + ContainerParametersRefusalTests.Known + ")"],
            val.ValidateParameters(ParametersOf("""{"colour": "blue"}""")));
    }
}
