using System.Diagnostics;
using System.Text;

namespace Motey.Template.Tests;

/// <summary>
/// The built agent (<c>dotnet host/bin/&lt;Configuration&gt;/net10.0/motey.dll run --config ...</c>) as its own process,
/// with its own folder, config.ini, plugins folder and loopback address.
/// </summary>
internal sealed class Agent : IAsyncDisposable
{
    private static int s_agents;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private Agent(Process process, string address, int port)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public HttpClient Client { get; }

    /// <summary>What the agent printed so far, for failure messages.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// Writes <paramref name="folder"/>/config.ini for an agent that loads the plugins in <paramref name="pluginsFolder"/>
    /// and starts it. <paramref name="sections"/> adds sections of its own (a plugin's settings).
    /// </summary>
    public static Agent Start(string folder, string pluginsFolder, IReadOnlyDictionary<string, string> sections)
    {
        // An address of its own on loopback: REST, the embedded broker and ZeroMQ bind there, beside other test runs.
        // The third byte (252) keeps it apart from the end-to-end tests' agents (127.x.0.y).
        var address = $"127.{200 + Environment.ProcessId % 50}.252.{Interlocked.Increment(ref s_agents) % 250 + 1}";
        var port = Ports.Free(address);
        var config = Path.Combine(folder, "config.ini");
        File.WriteAllText(config, $"""
            [WEBSERVER]
            ip = {address}
            port = {port}
            [MQTT]
            ip = {address}
            [ZEROMQ]
            capability_engine_ipc_path = tcp://{address}:5090
            [PLUGINS]
            path = {pluginsFolder}
            [ORCHESTRATOR]
            reconcile_interval = 0.2

            """ + string.Concat(sections.Select(s => $"[{s.Key}]\n{s.Value}\n")));

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        info.ArgumentList.Add(Path.Combine(Build.AgentDirectory, "motey.dll"));
        foreach (var arg in new[] { "run", "--config", config }) info.ArgumentList.Add(arg);
        info.Environment.Remove("MOTEY_CONFIG");
        return new Agent(Process.Start(info)!, address, port);
    }

    /// <summary>Waits until <c>GET /v1/heartbeat</c> answers 204; fails with the agent's output when it exits or the deadline passes.</summary>
    public Task WaitHealthyAsync(TimeSpan timeout) => Heartbeat.WaitAsync(Client, _process, () => Output, timeout);

    /// <summary>Stops the agent the way a service manager does (SIGTERM), and kills it when it does not end in time.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            Signals.Terminate(_process.Id);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}
