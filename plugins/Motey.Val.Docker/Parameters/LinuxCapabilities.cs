namespace Motey.Val.Docker.Parameters;

/// <summary>Linux's kernel capabilities by the names Docker uses (<c>NET_ADMIN</c>; <c>CAP_NET_ADMIN</c> and any case are read too).</summary>
internal static class LinuxCapabilities
{
    /// <summary>Every capability at once, as Docker's <c>--cap-add ALL</c>.</summary>
    public const string All = "ALL";

    // capabilities(7), Linux 5.9 and later; the host's config check keeps the same list (ShippedPluginSettings).
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE",
        "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
        "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID",
        "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
        "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
    };

    /// <summary><c>cap_net_admin</c> → <c>NET_ADMIN</c>, <c>all</c> → <c>ALL</c>; null when it names no capability.</summary>
    public static string? Normalize(string name)
    {
        var upper = name.Trim().ToUpperInvariant();
        if (upper.StartsWith("CAP_", StringComparison.Ordinal)) upper = upper[4..];
        return upper == All || s_known.Contains(upper) ? upper : null;
    }
}
