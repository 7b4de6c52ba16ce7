using System.IO.Hashing;
using System.Text;

namespace Motey.Host.Plugins;

/// <summary>
/// A plugin folder's files as the catalog judges and loads them. The fingerprint is of names, sizes and content, so a
/// touch, or the same build copied again, is no change; a folder still being copied fingerprints differently from one
/// moment to the next. The shadow copy is what the runtime loads and maps: never the operator's folder, since on Linux
/// <c>cp new.dll old.dll</c> rewrites a mapped file in place and can crash the process.
/// </summary>
internal static class PluginFiles
{
    /// <param name="Content">
    /// A hash of every file's relative name, size and bytes: equal means the same plugin. XXH128, not a cryptographic
    /// hash: it tells one build of an operator's plugin from another (whoever can write the plugins folder can run code
    /// in the agent anyway), and SHA-256 loaded OpenSSL into every node for it (3.9 MiB resident, libcrypto alone 3.4).
    /// </param>
    /// <param name="Stamps">A hash of names, sizes and modification times: differs from the last one after a touch.</param>
    internal sealed record Fingerprint(string Content, string Stamps);

    public static Fingerprint Of(string folder)
    {
        var content = new XxHash128();
        var stamps = new XxHash128();
        var buffer = new byte[81920];
        foreach (var file in Files(folder))
        {
            var info = new FileInfo(file);
            var name = Encoding.UTF8.GetBytes($"{Path.GetRelativePath(folder, file)}\0{info.Length}\0");
            content.Append(name);
            stamps.Append(name);
            stamps.Append(BitConverter.GetBytes(info.LastWriteTimeUtc.Ticks));
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                int read;
                while ((read = stream.Read(buffer)) > 0) content.Append(buffer.AsSpan(0, read));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Removed or locked while being read: a fingerprint no other moment shares, so it is tried again once quiet.
                content.Append(Encoding.UTF8.GetBytes($"unreadable: {e.Message}"));
            }
        }
        return new Fingerprint(Convert.ToHexString(content.GetHashAndReset()), Convert.ToHexString(stamps.GetHashAndReset()));
    }

    /// <summary>
    /// Copies <paramref name="folder"/> to <paramref name="copy"/>; false when the copy does not match
    /// <paramref name="expected"/> (the folder changed meanwhile), in which case the copy is deleted again.
    /// </summary>
    public static bool TryCopy(string folder, string copy, Fingerprint expected)
    {
        Directory.CreateDirectory(copy);
        foreach (var file in Files(folder))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                File.Copy(file, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Delete(copy);
                return false;
            }
        }
        if (Of(copy).Content == expected.Content) return true;
        Delete(copy);
        return false;
    }

    /// <summary>Deletes a copy; one that cannot be deleted now (Windows keeps a mapped file) is left for the next start.</summary>
    public static bool Delete(string copy)
    {
        try
        {
            if (Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every file under <paramref name="folder"/>, in a stable order. Linked directories are not followed: a link loop
    /// would be hashed and copied level after level, and a link to a large tree copied at every change.
    /// </summary>
    private static IEnumerable<string> Files(string folder) =>
        Directory.Exists(folder) ? Walk(folder).Order(StringComparer.Ordinal) : [];

    private static IEnumerable<string> Walk(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder)) yield return file;
        foreach (var directory in new DirectoryInfo(folder).EnumerateDirectories())
        {
            if (directory.LinkTarget is not null) continue;
            foreach (var file in Walk(directory.FullName)) yield return file;
        }
    }
}
