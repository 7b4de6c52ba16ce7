using Motey.Abstractions;
using static Motey.Val.Docker.Tests.TestSupport;

namespace Motey.Val.Docker.Tests;

/// <summary>The <c>[DOCKER]</c> section: defaults, and bad values refused at activation naming the key.</summary>
public sealed class DockerSettingsTests
{
    private static DockerSettings Read(Dictionary<string, string?> values) => DockerSettings.Read(Context(values).Settings);

    [Fact]
    public void Defaults_are_the_local_socket_a_five_minute_pull_and_a_ten_second_stop()
    {
        var settings = Read([]);

        Assert.Equal("unix:///var/run/docker.sock", settings.Url);
        Assert.Equal(TimeSpan.FromSeconds(300), settings.PullTimeout);
        Assert.Equal(10u, settings.StopTimeout);
    }

    [Theory]
    [InlineData("unix:///run/user/1000/docker.sock")]
    [InlineData("tcp://127.0.0.1:2375")]
    [InlineData("tcp://docker.example:2376")]
    public void Unix_and_tcp_urls_are_accepted(string url)
    {
        Assert.Equal(url, Read(new() { ["url"] = url }).Url);
    }

    [Theory]
    [InlineData("unix://var/run/docker.sock", "/var/run/docker.sock")]
    [InlineData("unix:///var/run/docker.sock", "/var/run/docker.sock")]
    [InlineData("unix://run/user/1000/docker.sock", "/run/user/1000/docker.sock")]
    public void A_unix_url_with_two_slashes_names_the_absolute_socket_path_as_docker_py_read_it(string url, string socket)
    {
        var settings = Read(new() { ["url"] = url });

        Assert.Equal(url, settings.Url);  // shown as configured
        Assert.Equal("unix", settings.Endpoint.Scheme);
        Assert.Equal(socket, settings.Endpoint.LocalPath);
        Assert.Contains(socket, settings.Policy.EngineSockets);
    }

    [Theory]
    [InlineData("http://127.0.0.1:2375")]
    [InlineData("unix://")]
    [InlineData("tcp://127.0.0.1")]
    [InlineData("/var/run/docker.sock")]
    [InlineData("docker")]
    public async Task An_invalid_url_fails_activation_naming_the_key(string url)
    {
        var error = await Assert.ThrowsAsync<ValException>(() => new DockerVal().ActivateAsync(Context(new Dictionary<string, string?> { ["url"] = url }), default));

        Assert.Equal($"[DOCKER] url: expected unix:///path/to/docker.sock or tcp://host:port, got '{url}'", error.Message);
    }

    [Theory]
    [InlineData("pull_timeout", "0", "a whole number of seconds from 1 to 86400")]
    [InlineData("pull_timeout", "five", "a whole number of seconds from 1 to 86400")]
    [InlineData("stop_timeout", "-1", "a whole number of seconds from 0 to 86400")]
    [InlineData("stop_timeout", "1.5", "a whole number of seconds from 0 to 86400")]
    public void A_bad_timeout_is_refused_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Throws<ValException>(() => Read(new() { [key] = value }));

        Assert.Equal($"[DOCKER] {key}: expected {expected}, got '{value}'", error.Message);
    }

    [Fact]
    public void Timeouts_are_read_in_seconds()
    {
        var settings = Read(new() { ["pull_timeout"] = "30", ["stop_timeout"] = "0" });

        Assert.Equal(TimeSpan.FromSeconds(30), settings.PullTimeout);
        Assert.Equal(0u, settings.StopTimeout);
    }
}
