using System.Diagnostics;
using System.Runtime.InteropServices;
using Docker.DotNet;

namespace Motey.Bench;

/// <summary>What the results depend on: the machine, the toolchain, the commit, the load.</summary>
internal static class Machine
{
    public static async Task<List<string>> DescribeAsync(BenchContext context, string repository, string commandLine)
    {
        var lines = new List<string>
        {
            $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC",
            $"- Commit: `{Run("git", "-C", repository, "rev-parse", "HEAD")}` ({DirtyFiles(repository)} files modified or untracked in the work tree)",
            $"- Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {MemTotalGiB():0.0} GiB memory, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {OsName()}",
            $"- .NET: {DotnetInfo()}",
            $"- wrk: {Run("sh", "-c", "wrk --version 2>&1 | head -1").Split(" Copyright")[0]}; Docker engine: {await DockerVersionAsync(context)}",
            $"- Load average (1, 5, 15 min) at start: {BenchContext.LoadAverage()}",
            $"- Command: `{commandLine}`",
        };
        return lines;
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private static double MemTotalGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
    }

    private static string OsName() =>
        File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux";

    /// <summary>The lines of <c>dotnet --info</c> that matter: SDK, runtime, RID.</summary>
    private static string DotnetInfo()
    {
        var info = Run("dotnet", "--info").Split('\n').Select(l => l.Trim()).ToList();
        string? After(string header, string key)
        {
            var start = info.FindIndex(l => l.StartsWith(header, StringComparison.Ordinal));
            if (start < 0) return null;
            return info.Skip(start + 1).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        return $"SDK {After(".NET SDK", "Version:") ?? "?"}, runtime {RuntimeInformation.FrameworkDescription}, RID {After("Runtime Environment", "RID:") ?? RuntimeInformation.RuntimeIdentifier}, "
            + $"Release builds, workstation GC in the agent (its runtimeconfig since 2026-12-01), server GC in the floor and the bare app (the Web SDK's default)";
    }

    private static async Task<string> DockerVersionAsync(BenchContext context)
    {
        try
        {
            using var docker = new DockerClientConfiguration(new Uri(context.DockerUrl)).CreateClient();
            var version = await docker.System.GetVersionAsync();
            return $"{version.Version} (API {version.APIVersion})";
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            return $"not reachable ({e.Message})";
        }
    }

    private static int DirtyFiles(string repository) =>
        Run("git", "-C", repository, "status", "--porcelain").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    public static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output.Trim();
    }
}
