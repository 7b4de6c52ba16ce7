using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;

namespace Motey.Host.Dashboard;

/// <summary>
/// The dashboard's files, embedded in the agent's assembly (logical names <c>dashboard/PATH</c>, from
/// host/Dashboard/wwwroot): read once, on the first request for one of them, with their ETag and a gzip copy.
/// Nothing is read from disk, so the files always match the agent that serves them and work offline.
/// </summary>
internal sealed class DashboardFiles
{
    private const string Prefix = "dashboard/";

    private readonly Lazy<FrozenDictionary<string, DashboardFile>> _files;

    public DashboardFiles() : this(typeof(DashboardFiles).Assembly) { }

    public DashboardFiles(Assembly assembly) => _files = new(() => Load(assembly));

    /// <summary>The file at <paramref name="path"/> (relative to wwwroot, '/' separated), or null.</summary>
    public DashboardFile? Find(string path) => _files.Value.GetValueOrDefault(path);

    /// <summary>Every file's path, for tests and diagnostics.</summary>
    public IEnumerable<string> Paths => _files.Value.Keys;

    private static FrozenDictionary<string, DashboardFile> Load(Assembly assembly)
    {
        var files = new Dictionary<string, DashboardFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var path = name[Prefix.Length..];
            // The assembly's MVID changes with any change of its content (deterministic builds), embedded files included:
            // an ETag of it and the file's name changes with every new build of the page and with nothing else. No hash
            // of each file, so serving the page loads no cryptography.
            var etag = $"\"{assembly.ManifestModule.ModuleVersionId:N}-{files.Count}\"";
            files[path] = DashboardFile.Of(path, buffer.ToArray(), etag);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>One embedded file: its bytes, its gzip bytes when that is smaller, its type and its ETag.</summary>
internal sealed record DashboardFile(string ContentType, byte[] Content, byte[]? Gzip, string ETag)
{
    public static DashboardFile Of(string path, byte[] content, string etag)
    {
        var type = TypeOf(path);
        byte[]? gzip = null;
        if (type.StartsWith("text/", StringComparison.Ordinal) || type.Contains("javascript", StringComparison.Ordinal) || type.Contains("svg", StringComparison.Ordinal))
        {
            using var compressed = new MemoryStream();
            using (var zip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(content);
            if (compressed.Length < content.Length) gzip = compressed.ToArray();
        }
        return new DashboardFile(type, content, gzip, etag);
    }

    private static string TypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json; charset=utf-8",
        ".woff2" => "font/woff2",
        _ => "application/octet-stream",
    };
}
