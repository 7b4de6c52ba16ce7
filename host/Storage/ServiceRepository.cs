using System.Text.Json;
using Microsoft.Data.Sqlite;
using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;

namespace Motey.Host.Storage;

/// <summary>
/// Services with their images, one JSON document per service, in the order they were accepted. Reads are served
/// from a snapshot of all services that every write through this repository drops; that assumes this process is
/// the only writer of its database file (one agent per file) and this repository the only writer of its table.
/// </summary>
internal sealed class ServiceRepository(Database database) : IServiceStore
{
    private readonly ReadCache<Snapshot> _cache = new();

    /// <summary>All services in the order they were accepted; read-only and shared, so never to be changed.</summary>
    public async Task<IReadOnlyList<Service>> AllAsync(CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).List.Items;

    /// <summary>All services as the JSON array <see cref="JsonSerializer"/> writes with <paramref name="options"/>, serialized once per write.</summary>
    public async Task<ReadOnlyMemory<byte>> AllAsJsonAsync(JsonSerializerOptions options, CancellationToken cancellationToken = default) =>
        (await SnapshotAsync(cancellationToken)).List.ToJson(options);

    /// <summary>
    /// One service: from the snapshot while it is current, else one row from the store. The orchestrator reads a
    /// service after each of its writes; reloading every service for that would cost O(services) per write.
    /// </summary>
    public async Task<Service?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        _cache.Current is { } snapshot
            ? snapshot.ById.GetValueOrDefault(id)
            : (await ReadAsync("SELECT document FROM services WHERE id = $1", [id], cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<Service>> FindByNameAsync(string serviceName, CancellationToken cancellationToken = default) =>
        Array.AsReadOnly((await SnapshotAsync(cancellationToken)).List.Items.Where(s => s.ServiceName == serviceName).ToArray());

    public Task AddAsync(Service service, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction,
                "INSERT INTO services (id, service_name, state, document, updated_at) VALUES ($1, $2, $3, $4, $5)",
                service.Id, service.ServiceName, (int)service.State, JsonSerializer.Serialize(service), Now());
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Stores the new version of a service; false when it does not exist.</summary>
    public Task<bool> UpdateAsync(Service service, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction,
                "UPDATE services SET state = $2, document = $3, updated_at = $4 WHERE id = $1",
                service.Id, (int)service.State, JsonSerializer.Serialize(service), Now());
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<bool> RemoveAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "DELETE FROM services WHERE id = $1", id);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    // Not through WriteAsync: the documents the snapshot holds do not change.
    public Task MarkTerminationAsync(string id, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "UPDATE services SET termination_requested = 1 WHERE id = $1", id);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlySet<string>> TerminationsAsync(CancellationToken cancellationToken = default) =>
        database.ReadAsync<IReadOnlySet<string>>(async connection =>
        {
            await using var command = connection.Command("SELECT id FROM services WHERE termination_requested = 1", []);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
            return ids;
        }, cancellationToken);

    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        _cache.InvalidateAfterAsync(database.WriteAsync(write, cancellationToken));

    private Task<Snapshot> SnapshotAsync(CancellationToken cancellationToken) => _cache.GetAsync(LoadAsync, cancellationToken);

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var list = await ReadAsync("SELECT document FROM services ORDER BY seq", [], cancellationToken);
        return new Snapshot(new ListSnapshot<Service>(list), list.ToDictionary(s => s.Id));
    }

    private Task<List<Service>> ReadAsync(string sql, object?[] values, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command(sql, values);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<Service>();
            while (await reader.ReadAsync(cancellationToken))
                list.Add(JsonSerializer.Deserialize<Service>(reader.GetString(0)) ?? throw new InvalidDataException("a stored service is null"));
            return list;
        }, cancellationToken);

    private static string Now() => DateTimeOffset.UtcNow.ToString("O");

    private sealed record Snapshot(ListSnapshot<Service> List, IReadOnlyDictionary<string, Service> ById);
}
