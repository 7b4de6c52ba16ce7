using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace Motey.EndToEnd.Tests;

/// <summary>The built <c>motey</c> agent running as its own process with its own folder and config.ini.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process, string folder, string address, int port, RestAccess access)
    {
        _process = process;
        Folder = folder;
        Address = address;
        Port = port;
        Access = access;
        Client = access.Client(address, port);
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Folder { get; }
    public string Address { get; }
    public int Port { get; }
    /// <summary>How <see cref="Client"/> reaches the REST API: plain HTTP, or HTTPS and a token (<see cref="SecuredRest"/>).</summary>
    public RestAccess Access { get; }
    /// <summary>A client of the REST API per <see cref="Access"/>: its scheme, trust and default token.</summary>
    public HttpClient Client { get; }
    public int Pid => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    private static int s_agents;

    /// <summary>A loopback address no other agent of this test run uses: each agent binds REST, broker and ZeroMQ there.</summary>
    public static string NextAddress()
    {
        var n = Interlocked.Increment(ref s_agents);
        return $"127.{200 + Environment.ProcessId % 50}.{n / 250 % 250}.{n % 250 + 1}";
    }

    /// <summary>
    /// Writes config.ini into <paramref name="folder"/> for an agent on <paramref name="address"/> (a fresh
    /// loopback address when null) and starts it. <paramref name="settings"/> ("SECTION:key" → value) override the defaults here.
    /// </summary>
    /// <paramref name="access"/>: how <see cref="Client"/> reaches it (plain HTTP when null; <see cref="SecuredRest"/> for HTTPS and tokens).
    public static AgentProcess Start(string folder, string? address = null, IReadOnlyDictionary<string, string>? settings = null,
        RestAccess? access = null)
    {
        address ??= NextAddress();
        var (config, port) = WriteConfig(folder, address, settings);
        return StartRaw(access ?? RestAccess.Plain, folder, address, port, "run", "--config", config);
    }

    /// <summary>Writes config.ini into <paramref name="folder"/> for an agent on <paramref name="address"/>; returns its path and REST port.</summary>
    public static (string Path, int Port) WriteConfig(string folder, string address, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = Ports.Free(address);
        var values = new Dictionary<string, string>
        {
            ["WEBSERVER:ip"] = address,
            ["WEBSERVER:port"] = port.ToString(),
            ["MQTT:ip"] = address,
            ["MQTT:keepalive"] = "2",
            ["ZEROMQ:capability_engine_ipc_path"] = $"tcp://{address}:5090",
            ["ZEROMQ:request_timeout"] = "2",
            ["ORCHESTRATOR:reconcile_interval"] = "0.2",
            ["ORCHESTRATOR:restart_backoff"] = "0.2",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) values[key] = value;
        var config = Path.Combine(folder, "config.ini");
        ConfigIni.Write(config, values);
        return (config, port);
    }

    /// <summary>Starts the agent again on the config.ini it had (same address and port).</summary>
    public AgentProcess Restart() => StartRaw(Access, Folder, Address, Port, "run", "--config", Path.Combine(Folder, "config.ini"));

    public static AgentProcess StartRaw(string folder, string address, int port, params string[] args) =>
        StartRaw(RestAccess.Plain, folder, address, port, args);

    /// <summary>`motey ARGS` in <paramref name="folder"/>; its <see cref="Client"/> reaches address:port per <paramref name="access"/>.</summary>
    public static AgentProcess StartRaw(RestAccess access, string folder, string address, int port, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",  // the agent must not depend on the working directory
        };
        info.ArgumentList.Add(Path.Combine(Build.AgentDirectory, "motey.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("MOTEY_CONFIG");
        return new AgentProcess(Process.Start(info)!, folder, address, port, access);
    }

    /// <summary>Runs one `motey` command (keys, capability, ...) to its end; its exit code and what it printed.</summary>
    public static async Task<(int Code, string Output)> CommandAsync(params string[] args)
    {
        await using var cli = StartRaw("/", "127.0.0.1", 0, args);
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, cli.Output);
    }

    /// <summary>Waits until GET /v1/heartbeat answers 204; fails with the agent's output when it exits first or after 60 s.</summary>
    public Task WaitHealthyAsync() => Heartbeat.WaitAsync(Client, _process, () => Output, TimeSpan.FromSeconds(60));

    /// <summary>Polls GET /v1/service/{id} until the service is in <paramref name="state"/>; fails with what it saw and the agent's output.</summary>
    public Task<Motey.Host.Core.Model.Service> WaitForServiceAsync(string id, Motey.Host.Core.Model.ServiceState state) =>
        Wait.ForAsync(async () => (await Client.GetFromJsonAsync<Motey.Host.Core.Model.Service>($"/v1/service/{id}"))!, service => service.State == state,
            $"service {id} is {state}", service => $"it is {service.State} ({service.StateMessage})\n{Output}",
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Kill() => _process.Kill();  // SIGKILL: no goodbye, no cleanup

    public void Terminate() => Signals.Terminate(_process.Id);

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
}
