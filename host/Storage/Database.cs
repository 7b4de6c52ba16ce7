using Microsoft.Data.Sqlite;

namespace Motey.Host.Storage;

/// <summary>
/// The node's SQLite file. WAL journal so readers never wait for the writer and a kill -9 loses
/// nothing committed; one writer at a time in this process so concurrent requests never fight over locks.
/// </summary>
internal sealed class Database : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public Database(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public void Dispose() => _writer.Dispose();

    /// <summary>Creates the file and its tables, or checks an existing one. Throws with the path when the file is unusable.</summary>
    public void Initialize()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        try
        {
            using var connection = Open();
            Execute(connection, "PRAGMA journal_mode=WAL;");
            var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"));
            if (version > SchemaVersion)
                throw new InvalidOperationException($"database {Path} has schema version {version}, newer than this agent knows ({SchemaVersion})");
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS capabilities (
                    name TEXT NOT NULL,
                    type TEXT NOT NULL,
                    PRIMARY KEY (name, type));
                CREATE TABLE IF NOT EXISTS nodes (
                    address TEXT NOT NULL PRIMARY KEY,
                    is_self INTEGER NOT NULL DEFAULT 0,
                    last_seen TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS services (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    service_name TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    document TEXT NOT NULL,
                    updated_at TEXT NOT NULL);
                PRAGMA user_version = 1;
                """);
        }
        catch (SqliteException e)
        {
            throw new InvalidOperationException($"database {Path} cannot be used: {e.Message}", e);
        }
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> read, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        return await read(connection).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="write"/> in one immediate transaction; it commits only when the delegate returns,
    /// and this method returns only after the commit (read caches rely on that).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken = default)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var connection = Open();
            // synchronous=NORMAL is durable across a process crash under WAL; only power loss can drop the last commits.
            // It governs commits only, so readers skip it.
            Execute(connection, "PRAGMA synchronous=NORMAL;");
            await using var transaction = connection.BeginTransaction(deferred: false);
            var result = await write(connection, transaction);
            await transaction.CommitAsync(CancellationToken.None);
            return result;
        }
        finally
        {
            _writer.Release();
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}

internal static class SqliteCommandExtensions
{
    /// <summary>A command with positional parameters $1, $2, ... bound to <paramref name="values"/>.</summary>
    public static SqliteCommand Command(this SqliteConnection connection, string sql, params object?[] values) =>
        connection.Command(null, sql, values);

    public static SqliteCommand Command(this SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        for (var i = 0; i < values.Length; i++) command.Parameters.AddWithValue($"${i + 1}", values[i] ?? DBNull.Value);
        return command;
    }
}
