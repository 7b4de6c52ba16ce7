using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Storage;

/// <summary>The repositories serve reads from a cache: every committed write must show in the next read, under concurrency too.</summary>
public sealed class ReadCacheTests : IDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly TestFolder _folder = new();
    private readonly Database _database;
    private readonly ServiceRepository _services;
    private readonly CapabilityRepository _capabilities;

    public ReadCacheTests()
    {
        _database = Open();
        _services = new ServiceRepository(_database);
        _capabilities = new CapabilityRepository(_database);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Every_service_write_is_visible_to_the_next_read_by_every_kind_of_read()
    {
        Assert.Empty(await _services.AllAsync());  // cached while empty
        var a = NewService("a", "web");
        await _services.AddAsync(a);
        Assert.Equal([a.Id], (await _services.AllAsync()).Select(s => s.Id));
        Assert.Equal(a.Id, (await _services.GetAsync(a.Id))?.Id);
        Assert.Single(await _services.FindByNameAsync("web"));
        Assert.Single(Deserialize<Service>(await _services.AllAsJsonAsync(Web)));

        var b = NewService("b", "web");
        await _services.AddAsync(b);
        Assert.Equal([a.Id, b.Id], (await _services.AllAsync()).Select(s => s.Id));
        Assert.Equal(2, (await _services.FindByNameAsync("web")).Count);
        Assert.Equal(2, Deserialize<Service>(await _services.AllAsJsonAsync(Web)).Count);

        await _services.UpdateAsync(a with { State = ServiceState.Running });
        Assert.Equal(ServiceState.Running, (await _services.GetAsync(a.Id))!.State);
        Assert.Equal(ServiceState.Running, (await _services.AllAsync())[0].State);
        Assert.Equal(ServiceState.Running, (await _services.FindByNameAsync("web"))[0].State);
        Assert.Equal(ServiceState.Running, Deserialize<Service>(await _services.AllAsJsonAsync(Web))[0].State);
    }

    [Fact]
    public async Task Every_capability_write_is_visible_to_the_next_read()
    {
        Capability gpu = new("gpu", "hardware"), camera = new("camera", "hardware"), docker = new("docker", Capability.PluginType);
        Assert.Empty(await _capabilities.AllAsync());

        await _capabilities.AddAsync([gpu, docker]);
        Assert.Equal([gpu, docker], await _capabilities.AllAsync());
        Assert.Equal([gpu, docker], Deserialize<Capability>(await _capabilities.AllAsJsonAsync(Web)));

        await _capabilities.RemoveAsync([gpu]);
        Assert.Equal([docker], await _capabilities.AllAsync());

        await _capabilities.ApplyAsync([new(true, [camera, gpu])]);
        Assert.Equal([camera, gpu, docker], await _capabilities.AllAsync());

        await _capabilities.RemoveAllOfTypeAsync(Capability.PluginType);
        Assert.Equal([camera, gpu], await _capabilities.AllAsync());
        Assert.Equal([camera, gpu], Deserialize<Capability>(await _capabilities.AllAsJsonAsync(Web)));
    }

    [Fact]
    public async Task Apply_runs_the_changes_in_order_and_counts_each_one()
    {
        Capability x = new("x", "t"), y = new("y", "t");

        var changed = await _capabilities.ApplyAsync([new(true, [x]), new(false, [x]), new(true, [y]), new(true, [y]), new(false, [new Capability("never", "t")])]);

        Assert.Equal([1, 1, 1, 0, 0], changed);
        Assert.Equal([y], await _capabilities.AllAsync());
    }

    [Fact]
    public async Task A_failed_or_cancelled_write_changes_nothing_and_leaves_the_next_read_right()
    {
        Capability kept = new("kept", "t");
        await _capabilities.AddAsync([kept]);
        var service = NewService("a", "web");
        await _services.AddAsync(service);
        Assert.Single(await _capabilities.AllAsync());
        Assert.Single(await _services.AllAsync());
        await PoisonAsync();

        // The first change is written inside the transaction before the poison aborts it: all of it rolls back.
        await Assert.ThrowsAsync<SqliteException>(() => _capabilities.ApplyAsync([new(true, [new Capability("first", "t")]), new(true, [new Capability("poison", "t")])]));
        await Assert.ThrowsAsync<SqliteException>(() => _services.AddAsync(NewService(service.Id, "duplicate id")));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _capabilities.AddAsync([new Capability("late", "t")], new CancellationToken(canceled: true)));

        Assert.Equal([kept], await _capabilities.AllAsync());
        Assert.Equal([service.Id], (await _services.AllAsync()).Select(s => s.Id));
        await _capabilities.AddAsync([new Capability("after", "t")]);
        Assert.Equal([new Capability("after", "t"), kept], await _capabilities.AllAsync());
    }

    [Fact]
    public async Task Returned_lists_cannot_change_what_the_next_reader_gets()
    {
        await _services.AddAsync(NewService("a", "web"));
        await _capabilities.AddAsync([new Capability("gpu", "hardware")]);

        var services = await _services.AllAsync();
        var capabilities = await _capabilities.AllAsync();
        Assert.IsNotType<List<Service>>(services);
        Assert.IsNotType<Service[]>(services);
        Assert.IsNotType<List<Capability>>(capabilities);
        Assert.IsNotType<Capability[]>(capabilities);
        Assert.Throws<NotSupportedException>(() => ((IList<Service>)services)[0] = NewService("b", "evil"));
        Assert.Throws<NotSupportedException>(() => ((IList<Capability>)capabilities).Clear());
        var byName = await _services.FindByNameAsync("web");
        Assert.Throws<NotSupportedException>(() => ((IList<Service>)byName).Clear());

        Assert.Equal("a", Assert.Single(await _services.AllAsync()).Id);
        Assert.Single(await _capabilities.AllAsync());
    }

    [Fact]
    public async Task Concurrent_readers_never_miss_a_committed_service_or_state_and_the_end_equals_the_model()
    {
        const int Writers = 4, Readers = 4, PerWriter = 60;
        var committed = new ConcurrentDictionary<string, ServiceState>();  // what writes that returned have stored
        var writersLeft = Writers;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < PerWriter; i++)
                {
                    var service = NewService($"w{w}-{i:D3}", $"writer{w}");
                    await _services.AddAsync(service);
                    committed[service.Id] = ServiceState.Initial;
                    await _services.UpdateAsync(service with { State = ServiceState.Running });
                    committed[service.Id] = ServiceState.Running;
                }
            }
            finally
            {
                Interlocked.Decrement(ref writersLeft);
            }
        }));
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            for (var round = 0; Volatile.Read(ref writersLeft) > 0 || round < 20; round++)
            {
                var model = committed.ToArray();  // taken before the read: all of it must show
                var seen = new List<Service>();
                if (round % 3 == 0) seen.AddRange(await _services.AllAsync());
                else if (round % 3 == 1) seen.AddRange(Deserialize<Service>(await _services.AllAsJsonAsync(Web)));
                else
                {
                    seen.AddRange(await _services.FindByNameAsync($"writer{r}"));
                    foreach (var (id, _) in model)
                        if (!id.StartsWith($"w{r}-", StringComparison.Ordinal) && await _services.GetAsync(id) is { } service) seen.Add(service);
                }
                var byId = seen.ToDictionary(s => s.Id);
                foreach (var (id, state) in model)
                {
                    Assert.True(byId.TryGetValue(id, out var service), $"reader {r} round {round} misses committed service {id}");
                    if (state == ServiceState.Running) Assert.Equal(ServiceState.Running, service.State);
                }
            }
        }));
        await Task.WhenAll(writers.Concat(readers));

        var all = await _services.AllAsync();
        Assert.Equal(committed.Keys.Order(), all.Select(s => s.Id).Order());
        Assert.All(all, s => Assert.Equal(ServiceState.Running, s.State));
        for (var w = 0; w < Writers; w++)  // each writer's services in the order it added them
        {
            var ids = all.Where(s => s.ServiceName == $"writer{w}").Select(s => s.Id).ToList();
            Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        }
    }

    [Fact]
    public async Task Concurrent_readers_never_miss_a_committed_capability_change_and_the_end_equals_the_model()
    {
        const int Writers = 4, Readers = 4, PerWriter = 150;
        // true: added and committed; false: removed and committed; null: a removal is under way, either may be seen.
        var present = new ConcurrentDictionary<Capability, bool?>();
        var writersLeft = Writers;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < PerWriter; i++)
                {
                    Capability c = new($"c{w}_{i}", "test"), previous = new($"c{w}_{i - 1}", "test");
                    if (i % 2 == 1) present[previous] = null;
                    // Add this one; at odd i remove the previous (even) one: through each write path in turn.
                    switch (i % 4)
                    {
                        case 0: await _capabilities.AddAsync([c]); break;
                        case 1: await _capabilities.ApplyAsync([new(true, [c]), new(false, [previous])]); break;
                        case 2: await _capabilities.ApplyAsync([new(true, [c])]); break;
                        default: await _capabilities.AddAsync([c]); await _capabilities.RemoveAsync([previous]); break;
                    }
                    present[c] = true;
                    if (i % 2 == 1) present[previous] = false;
                }
            }
            finally
            {
                Interlocked.Decrement(ref writersLeft);
            }
        }));
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            for (var round = 0; Volatile.Read(ref writersLeft) > 0 || round < 20; round++)
            {
                var model = present.ToArray();
                var seen = (round % 2 == 0 ? await _capabilities.AllAsync() : Deserialize<Capability>(await _capabilities.AllAsJsonAsync(Web))).ToHashSet();
                // Judged only by what was committed before the read began and still held when it ended: a removal that
                // started during the read may or may not be seen (a removed capability is never added again).
                foreach (var (capability, isPresent) in model.Where(m => m.Value is not null && present[m.Key] == m.Value))
                    Assert.True(seen.Contains(capability) == isPresent, $"reader {r} round {round}: {capability} should be {(isPresent == true ? "present" : "absent")}");
            }
        }));
        await Task.WhenAll(writers.Concat(readers));

        Assert.Equal(present.Where(p => p.Value == true).Select(p => p.Key).OrderBy(c => c.Name, StringComparer.Ordinal),
            (await _capabilities.AllAsync()).OrderBy(c => c.Name, StringComparer.Ordinal));
        Assert.Equal(Writers * PerWriter / 2, (await _capabilities.AllAsync()).Count);
    }

    [Fact]
    public async Task A_restart_on_the_same_file_lists_everything_written_before()
    {
        var written = new List<Service>();
        for (var i = 0; i < 5; i++)
        {
            var service = NewService($"s{i}", "web");
            await _services.AddAsync(service);
            written.Add(service with { State = ServiceState.Running });
            await _services.UpdateAsync(written[^1]);
        }
        await _capabilities.AddAsync([new Capability("gpu", "hardware"), new Capability("camera", "hardware")]);
        var json = (await _services.AllAsJsonAsync(Web)).ToArray();

        var restarted = Open();
        var services = new ServiceRepository(restarted);
        var capabilities = new CapabilityRepository(restarted);

        Assert.Equal(written.Select(s => (s.Id, s.State)), (await services.AllAsync()).Select(s => (s.Id, s.State)));
        Assert.Equal(json, (await services.AllAsJsonAsync(Web)).ToArray());
        Assert.Equal([new Capability("camera", "hardware"), new Capability("gpu", "hardware")], await capabilities.AllAsync());
    }

    private Database Open()
    {
        var database = new Database(Path.Combine(_folder.Path, "data", "motey.db"));
        database.Initialize();
        return database;
    }

    /// <summary>Makes every insert of a capability named 'poison' abort its transaction.</summary>
    private async Task PoisonAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_database.Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TRIGGER poison BEFORE INSERT ON capabilities WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;";
        await command.ExecuteNonQueryAsync();
    }

    private static Service NewService(string id, string name) =>
        new() { Id = id, ServiceName = name, Images = [new Image { Name = "x", Engine = "simulated" }] };

    private static List<T> Deserialize<T>(ReadOnlyMemory<byte> json) => JsonSerializer.Deserialize<List<T>>(json.Span, Web)!;
}
