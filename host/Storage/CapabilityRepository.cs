using Motey.Abstractions;

namespace Motey.Host.Storage;

/// <summary>The node's capabilities. A capability is the pair (name, type).</summary>
internal sealed class CapabilityRepository(Database database)
{
    public Task<IReadOnlyList<Capability>> AllAsync(CancellationToken cancellationToken = default) =>
        database.ReadAsync<IReadOnlyList<Capability>>(async connection =>
        {
            await using var command = connection.Command("SELECT name, type FROM capabilities ORDER BY type, name");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<Capability>();
            while (await reader.ReadAsync(cancellationToken)) list.Add(new Capability(reader.GetString(0), reader.GetString(1)));
            return list;
        }, cancellationToken);

    /// <summary>Adds the capabilities that are not there yet; returns how many were new.</summary>
    public Task<int> AddAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var added = 0;
            foreach (var c in capabilities)
            {
                await using var command = connection.Command(transaction, "INSERT OR IGNORE INTO capabilities (name, type) VALUES ($1, $2)", c.Name, c.Type);
                added += await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return added;
        }, cancellationToken);

    /// <summary>Removes the capabilities that exist; returns how many were removed.</summary>
    public Task<int> RemoveAsync(IEnumerable<Capability> capabilities, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var removed = 0;
            foreach (var c in capabilities)
            {
                await using var command = connection.Command(transaction, "DELETE FROM capabilities WHERE name = $1 AND type = $2", c.Name, c.Type);
                removed += await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return removed;
        }, cancellationToken);

    public Task<int> RemoveAllOfTypeAsync(string type, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "DELETE FROM capabilities WHERE type = $1", type);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
}
