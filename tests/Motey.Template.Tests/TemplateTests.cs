using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Template.Tests;

/// <summary>
/// The plugin author's session of the README: install the template from plugin-template/, generate a VAL for a new
/// engine, build and test it offline, drop it into a plugins folder, and run a blueprint on it in a real agent.
/// </summary>
public sealed class TemplateTests : IDisposable
{
    /// <summary>Installing and instantiating the template.</summary>
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(2);
    /// <summary>Anything that restores or compiles, on a busy CI machine.</summary>
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(6);

    private static readonly string TemplateFolder = Path.Combine(Build.Repository, "plugin-template");
    private static readonly string TemplateContent = Path.Combine(TemplateFolder, "content", "motey-val");
    private static readonly string AbstractionsProject =
        Path.Combine(Build.Repository, "abstractions", "Motey.Abstractions", "Motey.Abstractions.csproj");

    private readonly string _root = Directory.CreateTempSubdirectory("motey-template-").FullName;
    /// <summary>An engine no agent has heard of: lower case letters, as the template asks.</summary>
    private readonly string _engine = "tpl" + new string(Random.Shared.GetItems("abcdefghijklmnopqrstuvwxyz".ToCharArray(), 6));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }

    private string PluginName => "Motey.Val." + char.ToUpperInvariant(_engine[0]) + _engine[1..];

    [Fact]
    [Trait(Categories.Name, Categories.EndToEnd)]
    public async Task A_generated_plugin_builds_offline_passes_its_tests_and_runs_a_blueprint_in_a_real_agent()
    {
        // The repository's release: Motey.Abstractions packed into a folder feed (built already, with this test run).
        var feed = Path.Combine(_root, "feed");
        await new Dotnet(home: null).RunAsync(_root, Slow,
            "pack", AbstractionsProject, "-c", Build.Configuration, "--no-build", "-o", feed);
        WriteOfflineNuGetConfig(feed);

        // The author's session: a home of its own, and a packages folder of its own so the packed contract is fresh.
        var author = new Dotnet(home: Path.Combine(_root, "home"), packagesFolder: Path.Combine(_root, "packages"));
        await author.RunAsync(_root, Quick, "new", "install", TemplateFolder);
        var plugin = Path.Combine(_root, PluginName);
        await author.RunAsync(_root, Quick, "new", "motey-val", "--engine", _engine, "-o", plugin);

        var build = await author.RunAsync(plugin, Slow, "build", "-c", "Release");
        Assert.True(build.Contains(" 0 Warning(s)", StringComparison.Ordinal), $"the generated plugin builds with warnings:\n{build}");
        var test = await author.RunAsync(plugin, Slow, "test", "-c", "Release", "--no-build");
        Assert.True(test.Contains("Passed!", StringComparison.Ordinal), $"the generated tests did not pass:\n{test}");
        await author.RunAsync(plugin, Slow, "publish", Path.Combine("src", PluginName), "-c", "Release", "--no-build");

        var published = Path.Combine(plugin, "artifacts", "plugins", PluginName);
        var files = Directory.Exists(published) ? Directory.GetFiles(published).Select(Path.GetFileName).ToList() : [];
        Assert.True(files.Contains(PluginName + ".dll"), $"{published} holds: {string.Join(", ", files)}");
        Assert.False(files.Contains("Motey.Abstractions.dll"), "the agent provides the contract: the plugin folder must not carry it");

        var agentFolder = Directory.CreateDirectory(Path.Combine(_root, "agent")).FullName;
        var plugins = Path.Combine(agentFolder, "plugins");
        CopyFolder(published, Path.Combine(plugins, PluginName));
        await using var agent = Agent.Start(agentFolder, plugins,
            new Dictionary<string, string> { [_engine.ToUpperInvariant()] = "max_instances = 10" });
        await agent.WaitHealthyAsync(TimeSpan.FromSeconds(60));

        var capabilities = await agent.Client.GetFromJsonAsync<List<Capability>>("/v1/capabilities");
        Assert.True(capabilities!.Contains(new Capability(_engine, Capability.PluginType)),
            $"GET /v1/capabilities: {JsonSerializer.Serialize(capabilities)}\n{agent.Output}");

        // The plugin checks the parameters: an unknown one is refused before anything is stored.
        var refused = await agent.Client.PostAsync("/v1/service", YamlBody.Of(Blueprint("{comand: [serve]}")));
        var problem = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.BadRequest && problem.Contains("parameters.comand: unknown parameter"),
            $"POST with an unknown parameter: {(int)refused.StatusCode} {problem}");

        var created = await agent.Client.PostAsync("/v1/service", YamlBody.Of(Blueprint("{command: [serve, --port, 8080]}")));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /v1/service: {(int)created.StatusCode} {body}\n{agent.Output}");
        var id = JsonSerializer.Deserialize<Service>(body)!.Id;
        await WaitForStateAsync(agent, id, ServiceState.Running);

        var deleted = await agent.Client.DeleteAsync($"/v1/service/{id}");
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await WaitForStateAsync(agent, id, ServiceState.Terminated);
    }

    [Fact]
    [Trait(Categories.Name, Categories.EndToEnd)]
    public async Task A_generated_plugin_published_into_a_running_agents_plugins_folder_runs_a_blueprint_without_a_restart()
    {
        var feed = Path.Combine(_root, "feed");
        await new Dotnet(home: null).RunAsync(_root, Slow,
            "pack", AbstractionsProject, "-c", Build.Configuration, "--no-build", "-o", feed);
        WriteOfflineNuGetConfig(feed);
        var author = new Dotnet(home: Path.Combine(_root, "home"), packagesFolder: Path.Combine(_root, "packages"));
        await author.RunAsync(_root, Quick, "new", "install", TemplateFolder);
        var plugin = Path.Combine(_root, PluginName);
        await author.RunAsync(_root, Quick, "new", "motey-val", "--engine", _engine, "-o", plugin);

        // The agent runs first, with no plugin for the engine: a blueprint for it waits.
        var agentFolder = Directory.CreateDirectory(Path.Combine(_root, "agent")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(agentFolder, "plugins")).FullName;
        await using var agent = Agent.Start(agentFolder, plugins, new Dictionary<string, string>());
        await agent.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        var created = await agent.Client.PostAsync("/v1/service", YamlBody.Of(Blueprint("{command: [serve]}")));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /v1/service: {(int)created.StatusCode} {body}\n{agent.Output}");
        var id = JsonSerializer.Deserialize<Service>(body)!.Id;

        // Published straight into the running agent's plugins folder: the folder watcher loads it once the files are in.
        await author.RunAsync(plugin, Slow, "publish", Path.Combine("src", PluginName), "-c", "Release", "-o", Path.Combine(plugins, PluginName));

        await WaitForStateAsync(agent, id, ServiceState.Running);
        var listed = await agent.Client.GetStringAsync("/v1/plugins");
        using var document = JsonDocument.Parse(listed);
        var loaded = document.RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == PluginName);
        Assert.True(loaded.GetProperty("state").GetString() == "Active" && loaded.GetProperty("last_reload").GetProperty("outcome").GetString() == "added",
            $"GET /v1/plugins: {listed}\n{agent.Output}");
    }

    [Fact]
    [Trait(Categories.Name, Categories.EndToEnd)]
    public async Task Generated_inside_the_repository_a_plugin_builds_against_the_abstractions_project_without_warnings()
    {
        // Under this repository's Directory.Build.props and Directory.Packages.props (central versions, warnings as
        // errors); the plugin's own props end MSBuild's search, so it builds the same as anywhere else.
        var inside = Path.Combine(AppContext.BaseDirectory, "generated-" + PluginName);
        try
        {
            var author = new Dotnet(home: Path.Combine(_root, "home"));
            await author.RunAsync(_root, Quick, "new", "install", TemplateFolder);
            await author.RunAsync(_root, Quick,
                "new", "motey-val", "--engine", _engine, "--abstractions", AbstractionsProject, "-o", inside);

            // Built with the user's own NuGet settings, so the abstractions project's restore stays as the repository left it.
            var build = await new Dotnet(home: null).RunAsync(inside, Slow, "build", "-c", Build.Configuration);

            Assert.True(build.Contains(" 0 Warning(s)", StringComparison.Ordinal), $"the generated plugin builds with warnings:\n{build}");
            Assert.True(build.Contains($"Motey.Abstractions -> {Path.GetDirectoryName(AbstractionsProject)}", StringComparison.Ordinal),
                $"the plugin did not build against {AbstractionsProject}:\n{build}");
            var output = Path.Combine(inside, "src", PluginName, "bin", Build.Configuration, "net10.0");
            Assert.True(File.Exists(Path.Combine(output, PluginName + ".dll")), $"no {PluginName}.dll in {output}");
            Assert.False(File.Exists(Path.Combine(output, "Motey.Abstractions.dll")), "the plugin's output must not carry the contract");
        }
        finally
        {
            if (Directory.Exists(inside)) Directory.Delete(inside, recursive: true);
        }
    }

    [Fact]
    public void The_template_pins_the_abstractions_version_the_repository_packs_and_the_repositorys_package_versions()
    {
        // One version for everything the repository produces, Motey.Abstractions included.
        var version = XDocument.Load(Path.Combine(Build.Repository, "Directory.Build.props")).Descendants("Version").Single().Value;
        using var template = JsonDocument.Parse(File.ReadAllText(Path.Combine(TemplateContent, ".template.config", "template.json")));
        var symbols = template.RootElement.GetProperty("symbols");
        Assert.Equal(version, symbols.GetProperty("abstractionsVersion").GetProperty("defaultValue").GetString());

        var pinned = PackageVersions(Path.Combine(TemplateContent, "Directory.Packages.props"));
        Assert.Equal(version, pinned["Motey.Abstractions"]);
        var repository = PackageVersions(Path.Combine(Build.Repository, "Directory.Packages.props"));
        Assert.Equal(version, pinned["Motey.Abstractions"]);
        foreach (var (package, pin) in pinned.Where(p => p.Key != "Motey.Abstractions"))
        {
            Assert.True(repository.TryGetValue(package, out var used) && used == pin,
                $"the template pins {package} {pin}; the repository uses {used ?? "none"}");
        }
    }

    private static Dictionary<string, string> PackageVersions(string file) =>
        XDocument.Load(file).Descendants("PackageVersion")
            .ToDictionary(p => p.Attribute("Include")!.Value, p => p.Attribute("Version")!.Value);

    /// <summary>
    /// Restores only from the feed (Motey.* packages) and from the packages this machine has already restored
    /// (everything else): no network, and never an older Motey.Abstractions from anywhere but the feed.
    /// </summary>
    private void WriteOfflineNuGetConfig(string feed) =>
        File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="motey" value="{feed}" />
                <add key="restored" value="{Dotnet.UserPackagesFolder}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="motey"><package pattern="Motey.*" /></packageSource>
                <packageSource key="restored"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);

    private string Blueprint(string parameters) => $"""
        service_name: template-session
        images:
        - name: hello
          engine: {_engine}
          parameters: {parameters}
        """;

    private static Task WaitForStateAsync(Agent agent, string id, ServiceState state) =>
        Wait.ForAsync(() => agent.Client.GetStringAsync($"/v1/service/{id}"), last => JsonSerializer.Deserialize<Service>(last)!.State == state,
            $"service {id} is {state}", last => $"last seen: {last}\n{agent.Output}", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
