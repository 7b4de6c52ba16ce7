using System.Diagnostics;
using System.Text;

namespace Motey.EndToEnd.Tests.Container;

/// <summary>
/// The agent's container image as a machine without a registry gets it: deploy/container/build-local.sh, run once per
/// test run (the script itself does nothing when the image is up to date), and the docker CLI a user types.
/// </summary>
internal static class AgentImage
{
    public const string Name = "motey/agent:local";

    private static readonly SemaphoreSlim s_build = new(1, 1);
    private static bool s_built;

    /// <summary>Builds (or finds up to date) <see cref="Name"/>; fails with the script's output when it cannot.</summary>
    public static async Task EnsureBuiltAsync()
    {
        await s_build.WaitAsync();
        try
        {
            if (s_built) return;
            var script = Path.Combine(Build.Repository, "deploy", "container", "build-local.sh");
            var (code, output) = await RunAsync("bash", [script], TimeSpan.FromMinutes(15), BuildEnvironment);
            Assert.True(code == 0, $"{script} exited with {code}:\n{output}");
            s_built = true;
        }
        finally
        {
            s_build.Release();
        }
    }

    /// <summary><c>docker ARGS</c> to its end: its exit code and what it printed (stdout, then stderr).</summary>
    public static Task<(int Code, string Output)> DockerAsync(params string[] args) => CommandAsync("docker", args);

    /// <summary><c>PROGRAM ARGS</c> to its end (90 s at most): its exit code and what it printed (stdout, then stderr).</summary>
    public static Task<(int Code, string Output)> CommandAsync(string program, params string[] args) =>
        RunAsync(program, args, TimeSpan.FromSeconds(90), _ => { });

    /// <summary>What the container printed (docker logs), for failure messages.</summary>
    public static string Logs(string container)
    {
        var info = new ProcessStartInfo("docker", ["logs", "--tail", "60", container]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return $"last output of container {container}:\n{stdout}{stderr.Result}";
    }

    /// <summary>The script's dotnet publish is the user's, not the test host's: without what `dotnet test` set for MSBuild and VSTest.</summary>
    private static void BuildEnvironment(IDictionary<string, string?> environment)
    {
        foreach (var key in environment.Keys.Where(k =>
                     k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, string[] args, TimeSpan timeout,
        Action<IDictionary<string, string?>> environment)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Build.Repository,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        environment(info.Environment);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"`{program} {string.Join(' ', args)}` did not finish within {timeout.TotalSeconds:0} s and was killed:\n"
                + await stdout + await stderr);
        }
        var output = new StringBuilder(await stdout).Append(await stderr).ToString();
        return (process.ExitCode, output);
    }
}
