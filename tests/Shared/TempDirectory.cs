namespace Motey.Tests.Shared;

/// <summary>A fresh folder under the system's temporary folder, named after <paramref name="prefix"/>, deleted with all it holds on <see cref="Dispose"/>.</summary>
internal sealed class TempDirectory(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
