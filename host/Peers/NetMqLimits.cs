using NetMQ;

namespace Motey.Host.Peers;

/// <summary>
/// How many NetMQ sockets this process may open. NetMQ allows 1,024 unless told otherwise, and sizes its socket table
/// when the first socket is made: <see cref="Raise"/> runs at start, before any. One connection per peer endpoint (up to
/// four per node) reaches 1,024 at a few hundred nodes; past it NetMQ refuses new sockets. The limit follows the
/// process's open-files limit (a connection costs about three descriptors: its TCP connection and NetMQ's signalling
/// pair), between 1,024 and 65,536.
/// </summary>
internal static class NetMqLimits
{
    public const int Floor = 1024;
    public const int Ceiling = 65536;

    /// <summary>Sockets left for what is not a peer connection: repliers, the capability listener, monitors, tests' helpers.</summary>
    public const int Reserved = 64;

    private static int _raised;

    /// <summary>Raises NetMQ's socket limit once; later calls, and calls after the first socket was made, change nothing that matters.</summary>
    public static void Raise()
    {
        if (Interlocked.Exchange(ref _raised, 1) != 0) return;
        var wanted = (int)Math.Clamp(OpenFilesLimit() / 3, Floor, Ceiling);
        if (wanted > NetMQConfig.MaxSockets) NetMQConfig.MaxSockets = wanted;
    }

    /// <summary>How many peer connections a requester may hold: NetMQ's socket limit less <see cref="Reserved"/>.</summary>
    public static int ConnectionLimit => Math.Max(Reserved, NetMQConfig.MaxSockets - Reserved);

    /// <summary>The soft RLIMIT_NOFILE as /proc/self/limits tells it (.NET raises it to the hard limit at start); 3 × the ceiling when unknown.</summary>
    private static long OpenFilesLimit()
    {
        const long Unknown = 3L * Ceiling;
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return soft == "unlimited" ? Unknown : long.TryParse(soft, out var value) ? value : Unknown;
        }
        catch (IOException)
        {
            return Unknown;
        }
        catch (UnauthorizedAccessException)
        {
            return Unknown;
        }
    }
}
