using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Motey.EndToEnd.Tests.Security;

/// <summary>
/// The built <c>motey</c> agent as a process inside one of <see cref="NetworkNamespaces"/>, on that namespace's own
/// address with the config.ini it is given; reached over HTTP(S) from inside a namespace.
/// </summary>
internal sealed class NamespacedAgent : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private NamespacedAgent(Process process, string folder, string address)
    {
        _process = process;
        Folder = folder;
        Address = address;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); _stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); _stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public const int RestPort = 5023;

    public string Folder { get; }
    public string Address { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output { get { lock (_output) return _output.ToString(); } }
    /// <summary>What it printed on standard output alone.</summary>
    public string StandardOutput { get { lock (_output) return _stdout.ToString(); } }
    /// <summary>What it printed on standard error alone.</summary>
    public string StandardError { get { lock (_output) return _stderr.ToString(); } }

    /// <summary>The REST client (set by the test: which namespace it starts from, TLS trust, token).</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>
    /// Writes <paramref name="config"/> ("SECTION:key" → value) as config.ini (owner-only: it may hold the MQTT password)
    /// into <paramref name="folder"/> and starts the agent in namespace <paramref name="node"/>.
    /// </summary>
    public static NamespacedAgent Start(NetworkNamespaces namespaces, int node, string folder, IReadOnlyDictionary<string, string> config)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "config.ini");
        ConfigIni.Write(path, config);
        return StartWith(namespaces, node, folder, path);
    }

    /// <summary>Starts the agent in namespace <paramref name="node"/> with the config file <paramref name="config"/> as it is.</summary>
    public static NamespacedAgent StartWith(NetworkNamespaces namespaces, int node, string folder, string config)
    {
        var info = namespaces.Exec(node, "dotnet", Path.Combine(Build.AgentDirectory, "motey.dll"), "run", "--config", config);
        info.Environment.Remove("MOTEY_CONFIG");
        return new NamespacedAgent(Process.Start(info)!, folder, namespaces.Address(node));
    }

    /// <summary>Talks to this agent from inside namespace <paramref name="from"/>, over HTTPS trusting <paramref name="ca"/> when given, with <paramref name="token"/>.</summary>
    public NamespacedAgent Using(NetworkNamespaces namespaces, int from, TestCertificates? ca, string? token)
    {
        Client?.Dispose();
        Client = namespaces.Client(from, $"{(ca is null ? "http" : "https")}://{Address}:{RestPort}", ca is null ? null : ca.Trusts);
        if (token is not null) Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return this;
    }

    public Task WaitHealthyAsync() => Heartbeat.WaitAsync(Client, _process, () => Output, TimeSpan.FromSeconds(60));

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        Client?.Dispose();
        if (!_process.HasExited)
        {
            Signals.Terminate(_process.Id);
            try { await WaitForExitAsync(TimeSpan.FromSeconds(30)); }
            catch (OperationCanceledException) { _process.Kill(); }
        }
        _process.Dispose();
    }
}
