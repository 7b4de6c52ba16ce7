using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Motey.EndToEnd.Tests;

/// <summary>The built <c>motey</c> agent running as its own process with its own folder and config.ini.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process, string folder, int port)
    {
        _process = process;
        Folder = folder;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Folder { get; }
    public int Port { get; }
    public HttpClient Client { get; }
    public int Pid => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The agent's build output: host/bin/&lt;Configuration&gt;/net10.0, found from the repository root.</summary>
    public static string AgentDirectory
    {
        get
        {
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Motey.Host.sln")))
                    return Path.Combine(dir.FullName, "host", "bin", configuration, "net10.0");
            }
            throw new DirectoryNotFoundException("Motey.Host.sln not found above the test folder");
        }
    }

    /// <summary>Writes config.ini into <paramref name="folder"/> (a free loopback port unless given) and starts the agent on it.</summary>
    public static AgentProcess Start(string folder, string extraIni = "", int? port = null)
    {
        port ??= FreePort();
        File.WriteAllText(Path.Combine(folder, "config.ini"), $"""
            [WEBSERVER]
            ip = 127.0.0.1
            port = {port}
            [ORCHESTRATOR]
            reconcile_interval = 0.2
            {extraIni}
            """);
        return StartRaw(folder, port.Value, "run", "--config", Path.Combine(folder, "config.ini"));
    }

    public static AgentProcess StartRaw(string folder, int port, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",  // the agent must not depend on the working directory
        };
        info.ArgumentList.Add(Path.Combine(AgentDirectory, "motey.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("MOTEY_CONFIG");
        return new AgentProcess(Process.Start(info)!, folder, port);
    }

    public async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_process.HasExited) Assert.Fail($"the agent exited with {_process.ExitCode}:\n{Output}");
            try
            {
                if ((await Client.GetAsync("/v1/heartbeat")).StatusCode == HttpStatusCode.NoContent) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) Assert.Fail($"the agent did not become healthy:\n{Output}");
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Kill() => _process.Kill();  // SIGKILL: no goodbye, no cleanup

    public void Terminate() => Signal(_process.Id, 15);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            Terminate();
            try { await WaitForExitAsync(TimeSpan.FromSeconds(30)); }
            catch (OperationCanceledException) { _process.Kill(); }
        }
        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
