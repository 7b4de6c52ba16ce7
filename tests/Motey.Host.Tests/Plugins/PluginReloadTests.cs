using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Events;
using Motey.Host.Core.Orchestration;
using Motey.Host.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Plugins;

/// <summary>
/// Plugins added, updated and removed while the node runs, with the real compiled reloadable test VAL (versions 1 and 2,
/// same assembly name) whose instances are OS processes: "untouched" is judged by pid and start time in /proc.
/// </summary>
public sealed class PluginReloadTests
{
    private static readonly Capability Reloadable = new("reloadable", Capability.PluginType);
    private const string Blueprint = "images:\n- name: sleeper\n  engine: reloadable\n";

    [Fact]
    public async Task A_plugin_dropped_into_the_running_node_registers_its_engine_and_places_the_blueprint_waiting_for_it()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated],
            new Dictionary<string, string> { ["PLUGINS:watch_debounce"] = "0.3" });
        await using var processes = new ReloadableInstances(folder);
        var waiting = await node.DeployAsync("service_name: waits\n" + Blueprint);
        await node.WaitForServiceAsync(waiting.Id, s => s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));

        ReloadablePlugin.Drop(folder, ReloadablePlugin.Version1);  // no rescan asked: the folder watcher sees it

        await Wait.UntilAsync(async () => (await node.CapabilitiesAsync()).Contains(Reloadable), "the engine's capability is registered");
        var running = await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Running);
        Assert.True(processes.IsAlive(running.Images[0].Id), "the placed instance is a running process");
        var plugin = (await node.PluginsAsync())[ReloadablePlugin.Name];
        Assert.Equal("Active", plugin.GetProperty("state").GetString());
        Assert.Equal("1.0.0.0", plugin.GetProperty("version").GetString());
        Assert.Equal("added", plugin.GetProperty("last_reload").GetProperty("outcome").GetString());
        Assert.True(plugin.GetProperty("loaded_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task A_new_version_takes_over_while_a_service_runs_and_the_instance_keeps_its_id_and_process()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        await using var processes = new ReloadableInstances(folder);
        var service = await node.WaitForServiceAsync((await node.DeployAsync("service_name: up\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        var instance = service.Images[0].Id;
        var before = processes.Process(instance);
        var loadedBefore = (await node.PluginsAsync())[ReloadablePlugin.Name].GetProperty("loaded_at").GetDateTimeOffset();

        ReloadablePlugin.Drop(folder, ReloadablePlugin.Version2);
        var plugins = await node.RescanAsync();

        var plugin = plugins[ReloadablePlugin.Name];
        Assert.Equal("2.0.0.0", plugin.GetProperty("version").GetString());
        Assert.Equal("Active", plugin.GetProperty("state").GetString());
        Assert.Equal("updated", plugin.GetProperty("last_reload").GetProperty("outcome").GetString());
        Assert.True(plugin.GetProperty("loaded_at").GetDateTimeOffset() > loadedBefore);
        Assert.Equal(before, processes.Process(instance));  // same pid, same start time: the process was not touched
        Assert.True(processes.IsAlive(instance));
        Assert.Equal("1.0.0.0", processes.StartedBy(instance));
        // The new version lists the instance (adopted by its labels) and reports it running under the same id.
        Assert.Contains(instance, await node.InstanceIdsAsync("reloadable"));
        var after = await node.GetServiceAsync(service.Id);
        Assert.Equal((instance, ServiceState.Running), (after.Images[0].Id, after.State));
        Assert.Contains(Reloadable, await node.CapabilitiesAsync());

        var next = await node.WaitForServiceAsync((await node.DeployAsync("service_name: next\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        Assert.Equal("2.0.0.0", processes.StartedBy(next.Images[0].Id));
        Assert.Equal(before, processes.Process(instance));
    }

    [Fact]
    public async Task A_broken_new_version_is_reported_and_the_old_version_keeps_serving()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        await using var processes = new ReloadableInstances(folder);
        var service = await node.WaitForServiceAsync((await node.DeployAsync("service_name: up\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        var before = processes.Process(service.Images[0].Id);

        File.WriteAllBytes(Path.Combine(ReloadablePlugin.Folder(folder), ReloadablePlugin.Name + ".dll"), [0x4d, 0x5a, 0x00, 0x01, 0x02, 0x03]);
        var plugin = (await node.RescanAsync())[ReloadablePlugin.Name];

        Assert.Equal("Active", plugin.GetProperty("state").GetString());
        Assert.Equal("1.0.0.0", plugin.GetProperty("version").GetString());
        var reload = plugin.GetProperty("last_reload");
        Assert.Equal("failed", reload.GetProperty("outcome").GetString());
        Assert.Contains("not a loadable .NET assembly", reload.GetProperty("error").GetString());
        Assert.Contains(Reloadable, await node.CapabilitiesAsync());
        var next = await node.WaitForServiceAsync((await node.DeployAsync("service_name: next\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        Assert.Equal("1.0.0.0", processes.StartedBy(next.Images[0].Id));
        Assert.Equal(before, processes.Process(service.Images[0].Id));

        // The same broken files are not tried again; fixed files are.
        Assert.Equal("failed", (await node.RescanAsync())[ReloadablePlugin.Name].GetProperty("last_reload").GetProperty("outcome").GetString());
        ReloadablePlugin.Drop(folder, ReloadablePlugin.Version2);
        Assert.Equal("2.0.0.0", (await node.RescanAsync())[ReloadablePlugin.Name].GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_removed_plugin_withdraws_its_engine_leaves_its_instance_running_and_adopts_it_when_it_returns()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        await using var processes = new ReloadableInstances(folder);
        var service = await node.WaitForServiceAsync((await node.DeployAsync("service_name: up\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        var instance = service.Images[0].Id;
        var before = processes.Process(instance);

        Directory.Delete(ReloadablePlugin.Folder(folder), recursive: true);
        var removed = (await node.RescanAsync())[ReloadablePlugin.Name];

        Assert.Equal("Removed", removed.GetProperty("state").GetString());
        Assert.Equal("removed", removed.GetProperty("last_reload").GetProperty("outcome").GetString());
        Assert.DoesNotContain(Reloadable, await node.CapabilitiesAsync());
        var orphaned = await node.WaitForServiceAsync(service.Id, s => s.Images[0].StateMessage.Contains("engine 'reloadable' is not loaded", StringComparison.Ordinal));
        Assert.Equal((ImageState.Running, instance), (orphaned.Images[0].State, orphaned.Images[0].Id));
        Assert.Contains($"plugin folder {ReloadablePlugin.Name} removed", orphaned.Images[0].StateMessage);
        Assert.True(processes.IsAlive(instance), "the instance runs on without its plugin");
        // A new blueprint for the engine waits for a node with it.
        var waiting = await node.DeployAsync("service_name: waits\n" + Blueprint);
        await node.WaitForServiceAsync(waiting.Id, s => s.StateMessage.Contains(Deployer.WaitingPrefix, StringComparison.Ordinal));

        ReloadablePlugin.Drop(folder, ReloadablePlugin.Version2);
        var back = (await node.RescanAsync())[ReloadablePlugin.Name];

        Assert.Equal(("Active", "added"), (back.GetProperty("state").GetString(), back.GetProperty("last_reload").GetProperty("outcome").GetString()));
        var adopted = await node.WaitForServiceAsync(service.Id, s => s.Images[0].StateMessage == "");
        Assert.Equal((ImageState.Running, instance), (adopted.Images[0].State, adopted.Images[0].Id));
        Assert.Equal(before, processes.Process(instance));
        Assert.Contains(instance, await node.InstanceIdsAsync("reloadable"));
        await node.WaitForServiceAsync(waiting.Id, s => s.State == ServiceState.Running);
    }

    [Fact]
    public async Task A_touch_or_the_same_build_copied_again_reloads_nothing()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        var loaded = (await node.PluginsAsync())[ReloadablePlugin.Name].GetProperty("loaded_at").GetDateTimeOffset();

        Assert.Equal(JsonValueKind.Null, (await node.RescanAsync())[ReloadablePlugin.Name].GetProperty("last_reload").ValueKind);
        File.SetLastWriteTimeUtc(Path.Combine(ReloadablePlugin.Folder(folder), ReloadablePlugin.Name + ".dll"), DateTime.UtcNow.AddMinutes(1));
        var touched = (await node.RescanAsync())[ReloadablePlugin.Name];

        Assert.Equal("unchanged", touched.GetProperty("last_reload").GetProperty("outcome").GetString());
        Assert.Equal(loaded, touched.GetProperty("loaded_at").GetDateTimeOffset());
        Assert.Equal("1.0.0.0", touched.GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_rescan_whose_caller_gives_up_while_a_plugin_is_added_still_adds_it()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated], ReloadablePlugin.NoWatch);
        await using var processes = new ReloadableInstances(folder);
        var catalog = node.Services.GetRequiredService<PluginCatalog>();
        using var caller = new CancellationTokenSource();
        // The caller leaves (a client timeout, Ctrl-C) at the moment the plugin has just been activated and serves.
        using var leaves = node.Services.GetRequiredService<EventHub>().Subscribe(null, e =>
        {
            if (e.Data.Contains("\"added\"", StringComparison.Ordinal)) caller.Cancel();
            return false;
        });
        ReloadablePlugin.Drop(folder, ReloadablePlugin.Version1);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => catalog.RescanAsync(caller.Token));

        await Wait.UntilAsync(async () => (await node.CapabilitiesAsync()).Contains(Reloadable), "the engine's capability is registered");
        var plugin = (await node.PluginsAsync())[ReloadablePlugin.Name];
        Assert.Equal(("Active", "1.0.0.0"), (plugin.GetProperty("state").GetString(), plugin.GetProperty("version").GetString()));
        Assert.NotNull(catalog.Find("reloadable"));
        var service = await node.WaitForServiceAsync((await node.DeployAsync("service_name: up\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        Assert.True(processes.IsAlive(service.Images[0].Id));
    }

    [Fact]
    public async Task A_plugin_whose_activation_timed_out_is_tried_again_at_the_next_rescan_and_broken_files_are_not()
    {
        using var folder = new TestFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "plugins", "Garbage"));
        File.WriteAllBytes(Path.Combine(folder.Path, "plugins", "Garbage", "Garbage.dll"), [0x4d, 0x5a, 0x00, 0x01, 0x02, 0x03]);
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, TestNode.Hanging],
            new Dictionary<string, string> { ["PLUGINS:activation_timeout"] = "1", ["PLUGINS:watch"] = "false" });
        Assert.Equal("TimedOut", (await node.PluginsAsync())[TestNode.Hanging].GetProperty("state").GetString());

        var plugins = await node.RescanAsync();  // nothing changed in the folder

        var hanging = plugins[TestNode.Hanging];
        Assert.Equal("TimedOut", hanging.GetProperty("state").GetString());
        Assert.Equal("failed", hanging.GetProperty("last_reload").GetProperty("outcome").GetString());
        Assert.Contains("did not load and activate within", hanging.GetProperty("last_reload").GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, plugins["Garbage"].GetProperty("last_reload").ValueKind);
    }

    [Fact]
    public async Task An_update_of_the_simulated_val_keeps_its_running_instance()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated], ReloadablePlugin.NoWatch);
        var service = await node.WaitForServiceAsync((await node.DeployAsync(
            "service_name: sim\nimages:\n- name: web\n  engine: simulated\n  parameters: {start_delay_ms: 0}\n")).Id, s => s.State == ServiceState.Running);
        var instance = service.Images[0].Id;

        // A new build: any change of the folder's files makes one.
        File.WriteAllText(Path.Combine(folder.Path, "plugins", TestNode.Simulated, "notes.txt"), "a new build");
        var plugin = (await node.RescanAsync())[TestNode.Simulated];

        Assert.Equal("updated", plugin.GetProperty("last_reload").GetProperty("outcome").GetString());
        var val = node.Services.GetRequiredService<PluginCatalog>().Find("simulated")!;
        Assert.Equal(ImageState.Running, await val.GetInstanceStateAsync(instance, default));
        Assert.Contains(instance, await node.InstanceIdsAsync("simulated"));
        var after = await node.GetServiceAsync(service.Id);
        Assert.Equal((instance, ImageState.Running), (after.Images[0].Id, after.Images[0].State));
    }

    [Fact]
    public async Task A_new_version_with_another_engine_name_serves_only_that_engine_and_the_old_engines_instances_say_why()
    {
        using var folder = new TestFolder();
        await using var node = await TestNode.StartAsync(folder, [TestNode.Simulated, ReloadablePlugin.Name], ReloadablePlugin.NoWatch);
        await using var processes = new ReloadableInstances(folder);
        var service = await node.WaitForServiceAsync((await node.DeployAsync("service_name: up\n" + Blueprint)).Id, s => s.State == ServiceState.Running);
        var catalog = node.Services.GetRequiredService<PluginCatalog>();

        ReloadablePlugin.Drop(folder, ReloadablePlugin.Renamed);
        var plugin = (await node.RescanAsync())[ReloadablePlugin.Name];

        Assert.Equal(("3.0.0.0", "reloadable2"), (plugin.GetProperty("version").GetString(), plugin.GetProperty("type").GetString()));
        Assert.Null(catalog.Find("reloadable"));
        Assert.Equal("reloadable2", catalog.Find("reloadable2")!.PluginType);
        var capabilities = await node.CapabilitiesAsync();
        Assert.DoesNotContain(Reloadable, capabilities);
        Assert.Contains(new Capability("reloadable2", Capability.PluginType), capabilities);
        var orphaned = await node.WaitForServiceAsync(service.Id, s => s.Images[0].StateMessage.Contains("was replaced by 'reloadable2'", StringComparison.Ordinal));
        Assert.Equal(ImageState.Running, orphaned.Images[0].State);
        Assert.True(processes.IsAlive(service.Images[0].Id), "the instance runs on without a VAL for its engine");
    }

    [Fact]
    public async Task Rescan_needs_an_admin_token_when_tokens_are_configured()
    {
        await using var secured = await Security.SecuredNode.StartAsync();
        var read = await secured.Client(Security.SecuredNode.ReadToken).PostAsync("/v1/plugins/rescan", null);
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        var admin = await secured.Client(Security.SecuredNode.AdminToken).PostAsync("/v1/plugins/rescan", null);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }
}
