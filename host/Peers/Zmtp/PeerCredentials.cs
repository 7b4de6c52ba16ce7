using System.Net.Sockets;

namespace Motey.Host.Peers.Zmtp;

/// <summary>Who is at the other end of a Unix socket, for log lines: the kernel knows the process (SO_PEERCRED).</summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>"pid 1234 (python3), uid 0", or "an unknown process" where the kernel does not say.</summary>
    public static string Describe(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return "an unknown process";
        Span<byte> credentials = stackalloc byte[12];  // struct ucred: pid, uid, gid (32 bits each)
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) < 12) return "an unknown process";
        }
        catch (SocketException)
        {
            return "an unknown process";
        }
        var pid = BitConverter.ToInt32(credentials);
        var uid = BitConverter.ToUInt32(credentials[4..]);
        return $"pid {pid}{Command(pid)}, uid {uid}";
    }

    private static string Command(int pid)
    {
        try
        {
            return $" ({File.ReadAllText($"/proc/{pid}/comm").Trim()})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";  // gone already
        }
    }
}
