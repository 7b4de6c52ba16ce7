using Motey.Host.Core.Membership;

namespace Motey.Host.Storage;

/// <summary>The nodes this node knows, itself included. Rebuilt at every start.</summary>
internal sealed class NodeRepository(Database database) : INodeStore
{
    public Task<IReadOnlyList<NodeRecord>> AllAsync(CancellationToken cancellationToken = default) =>
        database.ReadAsync<IReadOnlyList<NodeRecord>>(async connection =>
        {
            await using var command = connection.Command("SELECT address, is_self, last_seen FROM nodes ORDER BY is_self DESC, address");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<NodeRecord>();
            while (await reader.ReadAsync(cancellationToken))
                list.Add(new NodeRecord(reader.GetString(0), reader.GetInt64(1) != 0, DateTimeOffset.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture)));
            return list;
        }, cancellationToken);

    /// <summary>Adds the node, or refreshes when it was last seen; never a duplicate.</summary>
    public Task<bool> UpsertAsync(string address, bool isSelf = false, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, """
                INSERT INTO nodes (address, is_self, last_seen) VALUES ($1, $2, $3)
                ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen, is_self = max(is_self, excluded.is_self)
                """, address, isSelf ? 1 : 0, DateTimeOffset.UtcNow.ToString("O"));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<bool> RemoveAsync(string address, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "DELETE FROM nodes WHERE address = $1", address);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task ClearAsync(CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "DELETE FROM nodes");
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
}
