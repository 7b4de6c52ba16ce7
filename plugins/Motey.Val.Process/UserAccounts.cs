using System.Runtime.InteropServices;

namespace Motey.Val.Process;

/// <summary>A user of this host as the user database (passwd, through NSS) knows it.</summary>
/// <param name="Name">Login name.</param>
/// <param name="Uid">User id.</param>
/// <param name="Gid">Primary group id.</param>
/// <param name="Home">Home folder (may not exist: nobody's is /nonexistent).</param>
internal sealed record UserAccount(string Name, uint Uid, uint Gid, string Home);

/// <summary>getpwnam_r(3) and geteuid(2): .NET has no managed API for either.</summary>
internal static partial class UserAccounts
{
    private const int Erange = 34;

    /// <summary>The user the agent runs as (its effective user id).</summary>
    public static uint EffectiveUid => GetEffectiveUid();

    /// <summary>The account called <paramref name="name"/>, or null when the user database has none.</summary>
    public static unsafe UserAccount? Find(string name)
    {
        for (var size = 1024; size <= 1 << 20; size *= 4)
        {
            var buffer = new byte[size];
            int error;
            Passwd entry;
            nint found;
            fixed (byte* start = buffer)
            {
                error = GetPwNamR(name, &entry, start, (nuint)size, &found);
            }
            if (error == Erange) continue;  // the entry's strings do not fit: a bigger buffer
            if (error != 0) throw new IOException($"looking up user '{name}' failed with errno {error}");
            return found == 0 ? null : new UserAccount(Text(entry.Name) ?? name, entry.Uid, entry.Gid, Text(entry.Dir) ?? "/");
        }
        throw new IOException($"looking up user '{name}' failed: its entry is larger than 1 MiB");
    }

    private static string? Text(nint utf8) => Marshal.PtrToStringUTF8(utf8);

    /// <summary>struct passwd of glibc and musl on Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        public nint Gecos;
        public nint Dir;
        public nint Shell;
    }

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int GetPwNamR(string name, Passwd* entry, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUid();
}
