using System.Runtime.Versioning;

namespace Motey.Tests.Shared;

/// <summary>config.ini as the tests write it: "SECTION:key" → value, one section per prefix.</summary>
[SupportedOSPlatform("linux")]
internal static class ConfigIni
{
    /// <summary>
    /// Writes <paramref name="values"/> to <paramref name="path"/>, owner-only: the agent refuses a config.ini that holds
    /// [MQTT] password and others can read.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, string>> values)
    {
        File.WriteAllLines(path, values.GroupBy(v => v.Key.Split(':')[0])
            .SelectMany(section => section.Select(v => $"{v.Key.Split(':')[1]} = {v.Value}").Prepend($"[{section.Key}]")));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
