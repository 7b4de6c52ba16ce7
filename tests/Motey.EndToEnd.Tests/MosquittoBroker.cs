using System.Diagnostics;
using System.Net.Sockets;

namespace Motey.EndToEnd.Tests;

/// <summary>A mosquitto broker of the test's own on a loopback address, started and killed like a real one.</summary>
internal sealed class MosquittoBroker : IAsyncDisposable
{
    private readonly string _config;
    private Process? _process;

    /// <param name="extraConfig">Lines appended to its configuration (a bridge, say).</param>
    /// <param name="tls">The broker's certificate and key (PEM), and the CA that signed it: the listener serves TLS alone.</param>
    public MosquittoBroker(string folder, string ip, int port = 1883, string? passwordFile = null, string extraConfig = "",
        (PemPair Certificate, string CaFile)? tls = null)
    {
        Ip = ip;
        Port = port;
        _config = Path.Combine(folder, $"mosquitto-{ip}.conf");
        var auth = passwordFile is null ? "allow_anonymous true" : $"allow_anonymous false\npassword_file {passwordFile}";
        // Its key is owner-only (root's, in tests): a broker that dropped to the mosquitto user could not read it.
        var secure = tls is not { } t ? "" : $"certfile {t.Certificate.Certificate}\nkeyfile {t.Certificate.Key}\ncafile {t.CaFile}\nuser root\n";
        File.WriteAllText(_config, $"listener {port} {ip}\n{secure}{auth}\npersistence false\n{extraConfig}");
    }

    public string Ip { get; }
    public int Port { get; }

    public static string Binary =>
        new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("mosquitto is not installed: run scripts/test-services.sh (test.sh does)");

    /// <summary>Runs mosquitto_passwd (installed with mosquitto), e.g. <c>-b -c FILE user password</c>.</summary>
    public static async Task PasswdAsync(params string[] args)
    {
        var info = new ProcessStartInfo("mosquitto_passwd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"mosquitto_passwd {string.Join(' ', args)} exited with {process.ExitCode}: {error}");
    }

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(_config);
        _process = Process.Start(info)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(Ip, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync() => new(KillAsync());
}
