using System.Runtime.InteropServices;

namespace Motey.Host.Configuration;

/// <summary>Whether a user exists, asked of the C library (passwd through NSS, so LDAP and the like count): .NET has no API for it.</summary>
internal static class UserDatabase
{
    public static bool Exists(string name) => GetPwNam(name) != IntPtr.Zero;

    // getpwnam's result lives in a static buffer, but only its presence is read here.
    [DllImport("libc", EntryPoint = "getpwnam", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr GetPwNam(string name);
}
