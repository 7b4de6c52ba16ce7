using System.Diagnostics;
using System.Text;

namespace Motey.Tests.Shared;

/// <summary>
/// The dotnet CLI as a plugin author runs it: with <paramref name="home"/>, in a session of its own (a temporary
/// <c>DOTNET_CLI_HOME</c>, so templates and NuGet settings installed there stay there), restoring into
/// <paramref name="packagesFolder"/> or else the packages this machine has restored; without, as the user. Either way
/// MSBuild leaves no long-lived helper processes behind.
/// </summary>
internal sealed class Dotnet(string? home, string? packagesFolder = null)
{
    /// <summary>The global packages folder this test run restores into: where every package the repository uses is.</summary>
    public static string UserPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(
                Environment.GetEnvironmentVariable("DOTNET_CLI_HOME") is { Length: > 0 } cliHome
                    ? cliHome
                    : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                ".nuget", "packages");

    /// <summary>
    /// Runs <c>dotnet <paramref name="args"/></c> in <paramref name="folder"/> and returns what it printed. Fails the test,
    /// showing that output, when the command exits non-zero or takes longer than <paramref name="timeout"/> (then it
    /// is killed with its child processes).
    /// </summary>
    public async Task<string> RunAsync(string folder, TimeSpan timeout, params string[] args)
    {
        var command = $"dotnet {string.Join(' ', args)}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Configure(info.Environment);

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();  // nothing may wait for an answer
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // WaitForExitAsync also waits for the last lines of output.
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"`{command}` in {folder} did not finish within {timeout.TotalSeconds:0} s and was killed:\n{Text(output)}");
        }
        if (process.ExitCode != 0)
            Assert.Fail($"`{command}` in {folder} exited with {process.ExitCode}:\n{Text(output)}");
        return Text(output);
    }

    private void Configure(IDictionary<string, string?> environment)
    {
        // What the test host inherited from `dotnet test` (MSBuild's own paths, VSTest's settings) is not the author's.
        foreach (var key in environment.Keys.Where(k =>
                     k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        // No MSBuild nodes, build server or compiler server outliving the command.
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["UseSharedCompilation"] = "false";
        if (home is not null)
        {
            environment["DOTNET_CLI_HOME"] = home;
            // Without this, NuGet would restore into the new home, where nothing is yet.
            environment["NUGET_PACKAGES"] = packagesFolder ?? UserPackagesFolder;
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
