namespace Motey.EndToEnd.Tests;

/// <summary>
/// What one test started (agents, brokers, engine proxies) under a temporary folder of its own: stopped in the reverse
/// order of starting, then the folder deleted.
/// </summary>
internal sealed class TestScope(string prefix) : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _running = [];

    public string Root { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>A folder of that name under <see cref="Root"/>, created.</summary>
    public string Folder(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    /// <summary>Stopped when the scope ends, after everything added later.</summary>
    public T Add<T>(T running) where T : IAsyncDisposable
    {
        _running.Add(running);
        return running;
    }

    /// <summary>Stops everything; <paramref name="beforeDelete"/> runs after the stops, before the folder goes.</summary>
    public async Task StopAsync(Func<Task>? beforeDelete = null)
    {
        for (var i = _running.Count - 1; i >= 0; i--) await _running[i].DisposeAsync();
        _running.Clear();
        if (beforeDelete is not null) await beforeDelete();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
