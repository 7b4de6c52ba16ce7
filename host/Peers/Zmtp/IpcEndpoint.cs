using System.Text;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// <c>ipc://PATH</c> endpoints: a Unix-domain socket file at PATH speaking ZMTP 3, as libzmq's ipc transport does, so
/// libzmq and pyzmq publishers (the original Motey's hardware layers and addcapability script) reach us.
/// </summary>
internal static class IpcEndpoint
{
    public const string Scheme = "ipc://";

    /// <summary>sun_path holds 108 octets on Linux, the last one a NUL.</summary>
    public const int MaxPathBytes = 107;

    public static bool Is(string endpoint) => endpoint.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary>
    /// The full path of the socket file of <paramref name="endpoint"/> (a relative one resolved against the current folder,
    /// as libzmq does); throws <see cref="FormatException"/> saying why the endpoint cannot be a socket file (without
    /// repeating the endpoint: the caller names it).
    /// </summary>
    public static string PathOf(string endpoint)
    {
        if (!Is(endpoint)) throw new FormatException("not an ipc:// endpoint");
        var path = endpoint[Scheme.Length..];
        if (path.Length == 0 || path == "*")
            throw new FormatException("it names no socket file; give its path, e.g. ipc:///tmp/capability_engine.ipc");
        if (path[0] == '@')
        {
            throw new FormatException("it is an abstract Unix socket, which has no file and so no permissions: any process on this "
                + "host could publish to it. Give a file path, e.g. ipc:///tmp/capability_engine.ipc");
        }
        path = Path.GetFullPath(path);
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxPathBytes)
        {
            throw new FormatException($"the path {path} has {bytes} octets, over the {MaxPathBytes} a Unix socket's path may have");
        }
        return path;
    }
}
