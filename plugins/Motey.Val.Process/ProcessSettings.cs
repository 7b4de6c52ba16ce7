using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Motey.Abstractions;
using Motey.Val.Shared;

namespace Motey.Val.Process;

/// <summary>The user the agent runs as: its effective user id and that user's name.</summary>
internal sealed record AgentUser(uint Uid, string Name)
{
    public static AgentUser Current => new(UserAccounts.EffectiveUid, Environment.UserName);

    public bool IsRoot => Uid == 0;
}

/// <summary>
/// The <c>[PROCESS]</c> section: which executables blueprints may run and as whom, and how much of their output is kept.
/// Secure by default: no executable until the operator lists some, and never as root unless the operator says so.
/// </summary>
/// <param name="AllowedExecutables"><c>allowed_executables</c>: absolute paths of executables, or folders holding them.</param>
/// <param name="RunAs">
/// The user instances run as when it is not the agent's own (<c>run_as</c>; default <c>nobody</c> when the agent is root);
/// null when they run as the agent's user.
/// </param>
/// <param name="LogMaxBytes">
/// <c>log_max_bytes</c>: the most output kept per instance, the current log and its one rotated generation together.
/// </param>
internal sealed partial record ProcessSettings(IReadOnlyList<string> AllowedExecutables, UserAccount? RunAs, long LogMaxBytes = ProcessSettings.DefaultLogMaxBytes)
{
    /// <summary>Output kept per instance unless <c>log_max_bytes</c> says otherwise: 10 MiB.</summary>
    public const long DefaultLogMaxBytes = 10 * 1024 * 1024;

    /// <summary>The least <c>log_max_bytes</c> accepted: 64 KiB, so that a rotated half still holds many lines.</summary>
    public const long MinLogMaxBytes = 64 * 1024;

    /// <summary>The most <c>log_max_bytes</c> accepted (2 GiB), as the agent checks config.ini.</summary>
    public const long MaxLogMaxBytes = int.MaxValue;

    /// <summary>Whom instances run as when the agent is root and <c>run_as</c> is empty.</summary>
    public const string DefaultRunAs = "nobody";

    /// <summary>Nothing allowed: what applies before activation.</summary>
    public static readonly ProcessSettings Closed = new([], null);

    /// <summary>
    /// Reads the section; throws <see cref="ValException"/> naming the key for a bad value, a user this node does not
    /// have, a user other than the agent's when the agent is not root (it could not switch), or a switch without setpriv.
    /// </summary>
    public static ProcessSettings Read(IConfiguration section, AgentUser agent, Func<string, UserAccount?> findUser, bool canSwitchUser)
    {
        var executables = HostPaths.ListSetting(section["allowed_executables"]).ToList();
        if (executables.FirstOrDefault(path => !path.StartsWith('/') || path.Contains('\0')) is { } bad)
            throw new ValException($"[PROCESS] allowed_executables: expected absolute paths of executables or of folders, separated by commas, got '{bad}'");
        var logMaxBytes = ReadLogMaxBytes(section["log_max_bytes"]?.Trim());
        return new ProcessSettings(executables, ReadRunAs(section["run_as"]?.Trim(), agent, findUser, canSwitchUser), logMaxBytes);
    }

    private static long ReadLogMaxBytes(string? text)
    {
        if (string.IsNullOrEmpty(text)) return DefaultLogMaxBytes;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) || bytes is < MinLogMaxBytes or > MaxLogMaxBytes)
        {
            throw new ValException(
                $"[PROCESS] log_max_bytes: expected a whole number of bytes from {MinLogMaxBytes} (64 KiB) to {MaxLogMaxBytes}, got '{text}'");
        }
        return bytes;
    }

    private static UserAccount? ReadRunAs(string? runAs, AgentUser agent, Func<string, UserAccount?> findUser, bool canSwitchUser)
    {
        if (string.IsNullOrEmpty(runAs))
        {
            if (!agent.IsRoot) return null;
            runAs = DefaultRunAs;
        }
        if (!UserName().IsMatch(runAs)) throw new ValException($"[PROCESS] run_as: expected a user name, got '{runAs}'");
        var account = findUser(runAs) ?? throw new ValException(runAs == DefaultRunAs
            ? $"[PROCESS] run_as: the agent runs as root, so instances run as user {DefaultRunAs} unless run_as names another, and this node has no user {DefaultRunAs}"
            : $"[PROCESS] run_as: this node has no user '{runAs}'");
        if (account.Uid == agent.Uid) return null;
        if (!agent.IsRoot)
        {
            throw new ValException($"[PROCESS] run_as: the agent runs as '{agent.Name}', not as root, so instances can only run as '{agent.Name}', "
                + $"not as '{runAs}'; leave run_as empty, or run the agent as root");
        }
        if (!canSwitchUser)
            throw new ValException($"[PROCESS] run_as: running instances as '{runAs}' needs setpriv (util-linux), which this node does not have");
        return account;
    }

    /// <summary>
    /// Why <paramref name="written"/> may not run, or null when it may: the executable it names (<paramref name="resolved"/>,
    /// links followed) must be an allowed path or inside an allowed folder, by whole path segments.
    /// </summary>
    public string? Executable(string written, string resolved)
    {
        if (AllowedExecutables.Any(allowed => HostPaths.TryResolve(allowed) is { } entry && HostPaths.IsWithin(resolved, entry))) return null;
        var shown = written == resolved ? written : $"{written} (that is {resolved})";
        return $"executable {shown} is not allowed on this node; adding {resolved} (or a folder above it) to [PROCESS] allowed_executables allows it";
    }

    /// <summary>A POSIX user name (as useradd takes it), with the upper case some systems allow.</summary>
    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}\\$?$")]
    private static partial Regex UserName();
}
