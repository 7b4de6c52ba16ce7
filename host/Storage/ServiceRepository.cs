using System.Text.Json;
using Motey.Abstractions;

namespace Motey.Host.Storage;

/// <summary>Services with their images, one JSON document per service, in the order they were accepted.</summary>
internal sealed class ServiceRepository(Database database)
{
    public Task<IReadOnlyList<Service>> AllAsync(CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT document FROM services ORDER BY seq", [], cancellationToken);

    public async Task<Service?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        (await QueryAsync("SELECT document FROM services WHERE id = $1", [id], cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<Service>> FindByNameAsync(string serviceName, CancellationToken cancellationToken = default) =>
        QueryAsync("SELECT document FROM services WHERE service_name = $1 ORDER BY seq", [serviceName], cancellationToken);

    public Task AddAsync(Service service, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction,
                "INSERT INTO services (id, service_name, state, document, updated_at) VALUES ($1, $2, $3, $4, $5)",
                service.Id, service.ServiceName, (int)service.State, JsonSerializer.Serialize(service), Now());
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Stores the new version of a service; false when it does not exist.</summary>
    public Task<bool> UpdateAsync(Service service, CancellationToken cancellationToken = default) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction,
                "UPDATE services SET state = $2, document = $3, updated_at = $4 WHERE id = $1",
                service.Id, (int)service.State, JsonSerializer.Serialize(service), Now());
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    private Task<IReadOnlyList<Service>> QueryAsync(string sql, object?[] values, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Service>>(async connection =>
        {
            await using var command = connection.Command(sql, values);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<Service>();
            while (await reader.ReadAsync(cancellationToken))
                list.Add(JsonSerializer.Deserialize<Service>(reader.GetString(0)) ?? throw new InvalidDataException("a stored service is null"));
            return list;
        }, cancellationToken);

    private static string Now() => DateTimeOffset.UtcNow.ToString("O");
}
