using System.Diagnostics;
using System.Text;

namespace Motey.Tests.Shared;

/// <summary>
/// Debian's python3 with python3-zmq (pyzmq on libzmq 4.3.4, what the original Motey's publishers use), running scripts
/// the tests write: the other end of an ipc endpoint that is not ours. scripts/test-services.sh installs it.
/// </summary>
internal sealed class Pyzmq : IAsyncDisposable
{
    /// <summary>Debian's interpreter, where python3-zmq installs (a python3 earlier on PATH may be another one without zmq).</summary>
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TempDirectory _folder;

    private Pyzmq(Process process, TempDirectory folder)
    {
        _process = process;
        _folder = folder;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>What the script printed so far, stdout and stderr.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// The original Motey's addcapability, as it talks to the capability engine: a PUB connects to <paramref name="endpoint"/>,
    /// sleeps 2 s ("the connection took some time, but the publisher will immediately send out data"), sends one string, exits.
    /// </summary>
    public static string AddCapabilityScript(string endpoint, string command, string name, string type) => $$"""
        import json, sys
        from time import sleep
        import zmq
        context = zmq.Context()
        publisher = context.socket(zmq.PUB)
        publisher.connect({{Quote(endpoint)}})
        sleep(2)
        json_data = [{'capability': {{Quote(name)}}, 'capability_type': {{Quote(type)}}}]
        output = '{{command}}#%s' % json.dumps(json_data)
        print('will send > %s' % output)
        publisher.send_string(output)
        """;

    /// <summary>
    /// A SUB bound on <paramref name="endpoint"/>, subscribed to <paramref name="prefix"/>: prints <c>bound</c>, then
    /// <c>received MESSAGE</c> for the first message within 30 s, and exits.
    /// </summary>
    public static string SubscriberScript(string endpoint, string prefix) => $$"""
        import zmq
        context = zmq.Context()
        subscriber = context.socket(zmq.SUB)
        subscriber.bind({{Quote(endpoint)}})
        subscriber.setsockopt(zmq.SUBSCRIBE, {{Quote(prefix).Insert(0, "b")}})
        print('bound')
        if subscriber.poll(30000):
            print('received', subscriber.recv_string())
        """;

    /// <summary>A Python string literal of <paramref name="text"/>.</summary>
    public static string Quote(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>Starts <paramref name="script"/> (written to a file of its own); fails the test when Debian's python3-zmq is missing.</summary>
    public static Pyzmq Start(string script)
    {
        if (!File.Exists(Python) || !File.Exists("/usr/lib/python3/dist-packages/zmq/__init__.py"))
            Assert.Fail($"{Python} with python3-zmq is needed (Debian's pyzmq on libzmq): run scripts/test-services.sh");
        var folder = new TempDirectory("motey-pyzmq-");
        var file = System.IO.Path.Combine(folder.Path, "script.py");
        File.WriteAllText(file, script);
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-u");  // unbuffered: tests wait for what it prints
        info.ArgumentList.Add(file);
        return new Pyzmq(Process.Start(info)!, folder);
    }

    /// <summary>Runs <paramref name="script"/> to its end; its exit code and output. Fails the test when it runs past a minute.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string script)
    {
        await using var python = Start(script);
        return (await python.WaitForExitAsync(TimeSpan.FromSeconds(60)), python.Output);
    }

    /// <summary>Waits until the script printed <paramref name="line"/> (a line of its own); fails with its output after the deadline or when it exits first.</summary>
    public Task WaitForLineAsync(string line) =>
        Wait.UntilAsync(() =>
        {
            if (Output.Split('\n').Any(l => l.TrimEnd('\r') == line)) return true;
            if (_process.HasExited) Assert.Fail($"the script exited ({_process.ExitCode}) before it printed '{line}':\n{Output}");
            return false;
        }, $"the script prints '{line}'", detail: () => Output);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the script did not end within {timeout.TotalSeconds} s:\n{Output}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _folder.Dispose();
    }
}
