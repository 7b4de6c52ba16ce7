using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;
using Motey.Host.Storage;
using Motey.Host.Tests.Infrastructure;
using Motey.Host.Tests.Peers;

namespace Motey.Host.Tests.Storage;

/// <summary>
/// The capability table in a real SQLite file: one entry per name, as the original keyed them, and a database written
/// by an agent that keyed them by (name, type) brought to that once, saying so in the log once.
/// </summary>
public sealed class CapabilityStoreTests : IDisposable
{
    private readonly TestFolder _folder = new();
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggers;

    public CapabilityStoreTests() => _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));

    public void Dispose()
    {
        _loggers.Dispose();
        _folder.Dispose();
    }

    private string DatabasePath => Path.Combine(_folder.Path, "data", "motey.db");

    private Database Open()
    {
        var database = new Database(DatabasePath);
        database.Initialize(_loggers.CreateLogger<Database>());
        return database;
    }

    [Fact]
    public async Task A_known_name_is_not_added_again_with_another_type_and_is_removed_only_with_its_own_type()
    {
        var store = new CapabilityRepository(Open());
        Assert.Equal(1, await store.AddAsync([new Capability("gpu", "hardware")]));

        Assert.Equal(0, await store.AddAsync([new Capability("gpu", "api")]));
        Assert.Equal(0, await store.RemoveAsync([new Capability("gpu", "api")]));
        Assert.Equal([new Capability("gpu", "hardware")], await store.AllAsync());

        Assert.Equal(1, await store.RemoveAsync([new Capability("gpu", "hardware")]));
        Assert.Empty(await store.AllAsync());
    }

    [Fact]
    public async Task Replace_takes_over_the_entry_of_its_name_and_says_which()
    {
        var store = new CapabilityRepository(Open());
        await store.AddAsync([new Capability("docker", "hardware")]);

        Assert.Equal(new CapabilityReplacement(true, new Capability("docker", "hardware")), await store.ReplaceAsync(new Capability("docker", "plugin")));
        Assert.Equal(new CapabilityReplacement(false, null), await store.ReplaceAsync(new Capability("docker", "plugin")));
        Assert.Equal(new CapabilityReplacement(true, null), await store.ReplaceAsync(new Capability("process", "plugin")));

        Assert.Equal([new Capability("docker", "plugin"), new Capability("process", "plugin")], await new CapabilityRepository(Open()).AllAsync());

        // Removing the entry that took over gives the one it took over back, in the file.
        Assert.Equal(1, await store.RemoveAsync([new Capability("docker", "plugin")]));
        Assert.Equal([new Capability("docker", "hardware"), new Capability("process", "plugin")], await new CapabilityRepository(Open()).AllAsync());
    }

    [Fact]
    public async Task A_database_keyed_by_name_and_type_keeps_one_entry_per_name_and_says_so_once()
    {
        // What an agent of schema 1 left: entries in the order they were added.
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE capabilities (name TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (name, type));
                CREATE TABLE nodes (address TEXT NOT NULL PRIMARY KEY, is_self INTEGER NOT NULL DEFAULT 0, last_seen TEXT NOT NULL);
                CREATE TABLE services (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, service_name TEXT NOT NULL,
                    state INTEGER NOT NULL, document TEXT NOT NULL, updated_at TEXT NOT NULL);
                INSERT INTO capabilities (name, type) VALUES
                    ('gpu', 'hardware'), ('docker', 'hardware'), ('camera', 'api'), ('gpu', 'api'), ('docker', 'plugin'), ('gpu', 'zeta');
                INSERT INTO nodes (address, is_self, last_seen) VALUES ('127.0.0.9', 1, '2026-11-30T00:00:00Z');
                PRAGMA user_version = 1;
                """;
            command.ExecuteNonQuery();
        }

        var store = new CapabilityRepository(Open());

        // The first added of each name is kept, whatever the types' order; the plugin entry stands over it.
        Assert.Equal([new Capability("camera", "api"), new Capability("gpu", "hardware"), new Capability("docker", "plugin")], await store.AllAsync());
        var said = Assert.Single(_logs.Lines, l => l.Contains("keyed by name", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", said);
        Assert.EndsWith("dropped gpu (api), gpu (zeta)", said);
        Assert.Equal(0, await store.AddAsync([new Capability("gpu", "api")]));
        // At start the agent withdraws the engines of the last run: the operator's docker entry is there again.
        Assert.Equal(1, await store.RemoveAllOfTypeAsync(Capability.PluginType));
        Assert.Equal([new Capability("camera", "api"), new Capability("docker", "hardware"), new Capability("gpu", "hardware")], await store.AllAsync());
        Assert.Single(await new NodeRepository(Open()).AllAsync());  // the other tables are kept as they were

        Open();  // a second start finds nothing to do and says nothing
        Assert.Single(_logs.Lines, l => l.Contains("keyed by name", StringComparison.Ordinal));
    }
}
