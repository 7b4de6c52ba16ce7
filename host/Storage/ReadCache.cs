namespace Motey.Host.Storage;

/// <summary>
/// The last value read from a table, reused until a write to that table commits. Correct only while this process
/// is the only writer of the database file and every write goes through the owner of this cache, which runs
/// each write through <see cref="InvalidateAfterAsync"/>.
/// </summary>
/// <remarks>
/// No lock is held across a read. A reader takes the version before it reads SQLite and stores the value under that
/// version; a writer increments the version after its commit. A read that began before the increment may have missed
/// the commit, but its value carries the old version and is never served once the increment happened; a read that
/// took the new version began after the commit and so sees it. A slower reader may overwrite a newer entry with an
/// older one: that only costs a reload.
/// </remarks>
internal sealed class ReadCache<T> where T : class
{
    private long _version;
    private Entry? _entry;

    /// <summary>The cached value when no write committed since it was read, else a fresh one from <paramref name="load"/>.</summary>
    public async Task<T> GetAsync(Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _version);
        if (Volatile.Read(ref _entry) is { } entry && entry.Version == version) return entry.Value;
        var value = await load(cancellationToken);
        Volatile.Write(ref _entry, new Entry(version, value));
        return value;
    }

    /// <summary>The cached value when no write committed since it was read; null when a read would have to go to the store.</summary>
    public T? Current => Volatile.Read(ref _entry) is { } entry && entry.Version == Interlocked.Read(ref _version) ? entry.Value : null;

    /// <summary>Awaits <paramref name="write"/>, then drops the cached value: after the commit, and after a failure too (a spurious reload is harmless).</summary>
    public async Task<TResult> InvalidateAfterAsync<TResult>(Task<TResult> write)
    {
        try
        {
            return await write;
        }
        finally
        {
            Interlocked.Increment(ref _version);
        }
    }

    private sealed record Entry(long Version, T Value);
}
