using System.Text.Json;
using Microsoft.Data.Sqlite;
using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Storage;

/// <summary>
/// DELETE's mark in the real SQLite file: kept apart from the service's document (a deploy's write of the document
/// does not clear it), found again after a restart, gone with the service; a file of an earlier agent gains it.
/// </summary>
public sealed class TerminationMarkTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string DatabasePath => Path.Combine(_folder.Path, "data", "motey.db");

    private ServiceRepository Start()
    {
        var database = new Database(DatabasePath);
        database.Initialize();
        return new ServiceRepository(database);
    }

    private static Service NewService(string id) => new()
    {
        Id = id, ServiceName = id, State = ServiceState.Initial, Images = [new Image { Name = "sleep", Engine = "process" }],
    };

    [Fact]
    public async Task A_marked_termination_outlives_a_deploys_write_and_a_restart_and_goes_with_the_service()
    {
        var services = Start();
        await services.AddAsync(NewService("deleted"));
        await services.AddAsync(NewService("kept"));
        await services.MarkTerminationAsync("deleted");
        var deleted = (await services.GetAsync("deleted"))!;
        await services.UpdateAsync(deleted.WithImage(0, deleted.Images[0] with { State = ImageState.Running, Node = "10.0.0.2", Id = "i-1" }));

        var restarted = Start();

        Assert.Equal(["deleted"], await restarted.TerminationsAsync());
        Assert.Equal(ImageState.Running, (await restarted.GetAsync("deleted"))!.Images[0].State);
        await restarted.RemoveAsync("deleted");
        Assert.Empty(await Start().TerminationsAsync());
    }

    [Fact]
    public async Task A_database_of_an_agent_before_the_mark_gains_it_with_nothing_marked_and_keeps_its_services()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=false"))
        {
            connection.Open();
            await using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE services (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    service_name TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    document TEXT NOT NULL,
                    updated_at TEXT NOT NULL);
                INSERT INTO services (id, service_name, state, document, updated_at) VALUES ('earlier', 'earlier', 0, $document, '2026-11-30T00:00:00Z');
                PRAGMA user_version = 2;
                """;
            create.Parameters.AddWithValue("$document", JsonSerializer.Serialize(NewService("earlier")));
            await create.ExecuteNonQueryAsync();
        }

        var services = Start();

        Assert.Empty(await services.TerminationsAsync());
        Assert.Equal("earlier", (await services.GetAsync("earlier"))!.ServiceName);
        await services.MarkTerminationAsync("earlier");
        Assert.Equal(["earlier"], await services.TerminationsAsync());
    }
}
