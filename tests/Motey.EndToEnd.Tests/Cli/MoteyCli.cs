using System.Diagnostics;
using System.Text;

namespace Motey.EndToEnd.Tests.Cli;

/// <summary>What one `motey` command printed, apart, and how it ended.</summary>
internal sealed record CliResult(int Code, string Out, string Error)
{
    public override string ToString() => $"exit {Code}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>
/// Runs the built `motey` as its own process, as an operator types it: stdout and stderr apart (tables and JSON on one,
/// sentences on the other), stdin when given, and no $MOTEY_CONFIG or $MOTEY_TOKEN of this machine unless the test sets them.
/// </summary>
internal sealed class MoteyCli : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();

    private MoteyCli(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_error) _error.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Out { get { lock (_out) return _out.ToString(); } }
    public string Error { get { lock (_error) return _error.ToString(); } }
    public bool HasExited => _process.HasExited;

    public static MoteyCli Start(string[] args, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = "/",
        };
        info.ArgumentList.Add(Path.Combine(Build.AgentDirectory, "motey.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("MOTEY_CONFIG");
        info.Environment.Remove("MOTEY_TOKEN");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = Process.Start(info)!;
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        return new MoteyCli(process);
    }

    /// <summary>Runs `motey ARGS` to its end (at most 90 s).</summary>
    public static async Task<CliResult> RunAsync(string[] args, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var cli = Start(args, stdin, environment);
        return await cli.WaitAsync(TimeSpan.FromSeconds(90));
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();  // and its output read to the end
        return new CliResult(_process.ExitCode, Out, Error);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
