using Microsoft.Data.Sqlite;
using Motey.Host.Core.Model;

namespace Motey.Host.Storage;

/// <summary>
/// The node's SQLite file. WAL journal so readers never wait for the writer and a kill -9 loses
/// nothing committed; one writer at a time in this process so concurrent requests never fight over locks.
/// </summary>
internal sealed class Database : IDisposable
{
    /// <summary>2: capabilities keyed by name (1 keyed them by name and type).</summary>
    private const int SchemaVersion = 2;
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

    /// <summary>
    /// Creates the file and its tables, or checks an existing one and brings it to this schema. Throws with the path when
    /// the file is unusable. A migration that dropped capabilities is told to <paramref name="log"/>, once.
    /// </summary>
    public void Initialize(ILogger? log = null)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        try
        {
            using var connection = Open();
            Execute(connection, "PRAGMA journal_mode=WAL;");
            var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"));
            if (version > SchemaVersion)
                throw new InvalidOperationException($"database {Path} has schema version {version}, newer than this agent knows ({SchemaVersion})");
            using var transaction = connection.BeginTransaction(deferred: false);
            var dropped = CapabilitiesKeyedByName(connection, transaction);
            Execute(connection, transaction, """
                CREATE TABLE IF NOT EXISTS capabilities (
                    name TEXT NOT NULL PRIMARY KEY,
                    type TEXT NOT NULL,
                    replaced_type TEXT);
                CREATE TABLE IF NOT EXISTS nodes (
                    address TEXT NOT NULL PRIMARY KEY,
                    is_self INTEGER NOT NULL DEFAULT 0,
                    last_seen TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS addresses (
                    address TEXT NOT NULL PRIMARY KEY,
                    first_used TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS services (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    service_name TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    document TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    termination_requested INTEGER NOT NULL DEFAULT 0);
                PRAGMA user_version = 2;
                """);
            // A schema 2 file of a development build before the column existed.
            AddColumnIfMissing(connection, transaction, "capabilities", "replaced_type", "TEXT");
            // A file of an agent before DELETE's mark was kept apart from the document: no termination is pending there
            // that its STOPPING images do not show.
            AddColumnIfMissing(connection, transaction, "services", "termination_requested", "INTEGER NOT NULL DEFAULT 0");
            transaction.Commit();
            if (dropped.Count > 0)
            {
                log?.LogWarning("Capabilities are keyed by name now: database {Path} held more than one entry of a name; kept one per name "
                    + "(the first added; an engine's plugin entry stands over it while the engine is active) and dropped {Dropped}", Path, string.Join(", ", dropped.Select(c => $"{c.Name} ({c.Type})")));
            }
        }
        catch (SqliteException e)
        {
            throw new InvalidOperationException($"database {Path} cannot be used: {e.Message}", e);
        }
    }

    /// <summary>
    /// Schema 1 keyed capabilities by (name, type): rebuilds that table keyed by name, keeping per name the first entry
    /// added (lowest rowid) that is not a <c>plugin</c> one, and the <c>plugin</c> entry over it as if its engine had taken
    /// it over (the start withdraws plugin entries, which gives it back). Returns the entries dropped (more than one
    /// operator entry of a name); none when the table is already keyed by name.
    /// </summary>
    private static List<Capability> CapabilitiesKeyedByName(SqliteConnection connection, SqliteTransaction transaction)
    {
        using (var columns = connection.Command(transaction, "SELECT count(*) FROM pragma_table_info('capabilities') WHERE name = 'type' AND pk > 0"))
        {
            if (Convert.ToInt32(columns.ExecuteScalar()) == 0) return [];
        }
        var dropped = new List<Capability>();
        using (var duplicates = connection.Command(transaction, """
            SELECT name, type FROM capabilities c
            WHERE type <> 'plugin'
              AND rowid <> (SELECT d.rowid FROM capabilities d WHERE d.name = c.name AND d.type <> 'plugin' ORDER BY d.rowid LIMIT 1)
            ORDER BY name, rowid
            """))
        using (var reader = duplicates.ExecuteReader())
        {
            while (reader.Read()) dropped.Add(new Capability(reader.GetString(0), reader.GetString(1)));
        }
        Execute(connection, transaction, """
            CREATE TABLE capabilities_by_name (
                name TEXT NOT NULL PRIMARY KEY,
                type TEXT NOT NULL,
                replaced_type TEXT);
            INSERT INTO capabilities_by_name (name, type, replaced_type)
                SELECT name, type,
                    CASE WHEN type = 'plugin'
                        THEN (SELECT d.type FROM capabilities d WHERE d.name = c.name AND d.type <> 'plugin' ORDER BY d.rowid LIMIT 1) END
                FROM capabilities c
                WHERE rowid = (SELECT d.rowid FROM capabilities d WHERE d.name = c.name ORDER BY d.type = 'plugin' DESC, d.rowid LIMIT 1)
                ORDER BY rowid;
            DROP TABLE capabilities;
            ALTER TABLE capabilities_by_name RENAME TO capabilities;
            """);
        return dropped;
    }

    /// <summary>
    /// Records <paramref name="address"/> as one this agent names itself by, and returns the others it used before
    /// (<see cref="Motey.Host.Core.Membership.NodeIdentity.FormerAddresses"/>). Called once at start.
    /// </summary>
    public IReadOnlySet<string> RememberAddress(string address)
    {
        using var connection = Open();
        using (var insert = connection.Command("INSERT INTO addresses (address, first_used) VALUES ($1, $2) ON CONFLICT (address) DO NOTHING",
            address, DateTimeOffset.UtcNow.ToString("O")))
        {
            insert.ExecuteNonQuery();
        }
        var former = new HashSet<string>(StringComparer.Ordinal);
        using var select = connection.Command("SELECT address FROM addresses WHERE address <> $1", address);
        using var reader = select.ExecuteReader();
        while (reader.Read()) former.Add(reader.GetString(0));
        return former;
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

    /// <summary>Adds the column to a table of an earlier schema that lacks it.</summary>
    private static void AddColumnIfMissing(SqliteConnection connection, SqliteTransaction transaction, string table, string column, string definition)
    {
        using var exists = connection.Command(transaction, "SELECT count(*) FROM pragma_table_info($1) WHERE name = $2", table, column);
        if (Convert.ToInt32(exists.ExecuteScalar()) == 0) Execute(connection, transaction, $"ALTER TABLE {table} ADD COLUMN {column} {definition};");
    }

    private static void Execute(SqliteConnection connection, string sql) => Execute(connection, null, sql);

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
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
