using System.Text.Json;
using Microsoft.Data.Sqlite;
using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;

namespace Motey.Host.Storage;

/// <summary>
/// The node's capabilities, one per name (the table's key). Reads are served from a snapshot that every
/// write through this repository drops; that assumes this process is the only writer of its database file
/// (one agent per file) and this repository the only writer of its table.
/// </summary>
internal sealed class CapabilityRepository(Database database) : ICapabilityStore
{
    // A known name, of any type, is not added again: the original's add is a no-op when has(name).
    private const string InsertSql = "INSERT OR IGNORE INTO capabilities (name, type) VALUES ($1, $2)";
    // An entry that took over an operator's entry of its name (an engine's plugin entry) gives it back when removed; an
    // operator removing the entry taken over removes it for good.
    private const string DeleteSql = """
        UPDATE capabilities SET type = replaced_type, replaced_type = NULL WHERE name = $1 AND type = $2 AND replaced_type IS NOT NULL;
        DELETE FROM capabilities WHERE name = $1 AND type = $2;
        UPDATE capabilities SET replaced_type = NULL WHERE name = $1 AND replaced_type = $2;
        """;

    private readonly ReadCache<ListSnapshot<Capability>> _cache = new();

    /// <summary>All capabilities ordered by type, then name; read-only and shared, so never to be changed.</summary>
    public async Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).Items;

    /// <summary>All capabilities as the JSON array <see cref="JsonSerializer"/> writes with <paramref name="options"/>, serialized once per write.</summary>
    public async Task<ReadOnlyMemory<byte>> AllAsJsonAsync(JsonSerializerOptions options, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).ToJson(options);

    /// <summary>Adds each capability whose name is not there yet; returns how many were new.</summary>
    public Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        WriteAsync((connection, transaction) => ExecuteEachAsync(connection, transaction, InsertSql, capabilities, cancellationToken), cancellationToken);

    /// <summary>Removes each entry whose name and type both match (an entry it had taken over comes back); returns how many were removed.</summary>
    public Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        WriteAsync((connection, transaction) => ExecuteEachAsync(connection, transaction, DeleteSql, capabilities, cancellationToken), cancellationToken);

    /// <summary>
    /// Applies the changes in order in one transaction, all or none: each adds (as <see cref="AddAsync"/>) or removes
    /// (as <see cref="RemoveAsync"/>) its list. Returns how many capabilities each change added or removed.
    /// </summary>
    public Task<int[]> ApplyAsync(IReadOnlyList<CapabilityChange> changes, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            var changed = new int[changes.Count];
            for (var i = 0; i < changes.Count; i++)
                changed[i] = await ExecuteEachAsync(connection, transaction, changes[i].IsAdd ? InsertSql : DeleteSql, changes[i].List, cancellationToken);
            return changed;
        }, cancellationToken);

    public Task<CapabilityReplacement> ReplaceAsync(Capability capability, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var find = connection.Command(transaction, "SELECT type FROM capabilities WHERE name = $1", capability.Name);
            var type = (string?)await find.ExecuteScalarAsync(cancellationToken);
            if (type == capability.Type) return new CapabilityReplacement(false, null);
            await using var write = connection.Command(transaction, type is null
                ? "INSERT INTO capabilities (name, type) VALUES ($1, $2)"
                : "UPDATE capabilities SET replaced_type = type, type = $2 WHERE name = $1", capability.Name, capability.Type);
            await write.ExecuteNonQueryAsync(cancellationToken);
            return new CapabilityReplacement(true, type is null ? null : capability with { Type = type });
        }, cancellationToken);

    public Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, """
                UPDATE capabilities SET type = replaced_type, replaced_type = NULL WHERE type = $1 AND replaced_type IS NOT NULL;
                DELETE FROM capabilities WHERE type = $1;
                """, type);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Runs <paramref name="sql"/> (parameters $1 name, $2 type) once per capability; returns the rows changed.</summary>
    private static async Task<int> ExecuteEachAsync(
        SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<Capability> capabilities, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(transaction, sql, "", "");
        var (name, type) = (command.Parameters[0], command.Parameters[1]);
        var changed = 0;
        foreach (var c in capabilities)
        {
            (name.Value, type.Value) = (c.Name, c.Type);
            changed += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return changed;
    }

    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        _cache.InvalidateAfterAsync(database.WriteAsync(write, cancellationToken));

    private Task<ListSnapshot<Capability>> SnapshotAsync(CancellationToken cancellationToken) => _cache.GetAsync(LoadAsync, cancellationToken);

    private Task<ListSnapshot<Capability>> LoadAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command("SELECT name, type FROM capabilities ORDER BY type, name");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<Capability>();
            while (await reader.ReadAsync(cancellationToken)) list.Add(new Capability(reader.GetString(0), reader.GetString(1)));
            return new ListSnapshot<Capability>(list);
        }, cancellationToken);
}
