using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Motey.EndToEnd.Tests.Security;

/// <summary>
/// Network namespaces of the test's own, one per node, joined by a bridge in a hub namespace: each node has an address
/// of its own (10.200.S.N/24, S from this process) that is not loopback, as machines of a fog have, and nothing of it
/// touches the host's own network. Agents run inside with <c>ip netns exec</c>; the test reaches them through sockets
/// created inside a namespace (<see cref="Socket"/>), so the host needs no route either. Needs root and iproute2.
/// </summary>
internal sealed partial class NetworkNamespaces : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly string _prefix;
    private readonly int _subnet;
    private readonly List<string> _created = [];

    public NetworkNamespaces(int nodes)
    {
        _prefix = $"mt{Environment.ProcessId % 100_000}x{Interlocked.Increment(ref s_sets)}";
        _subnet = 20 + (Environment.ProcessId + s_sets * 7) % 230;
        try
        {
            Ip("netns", "add", Hub);
            _created.Add(Hub);
            Ip("-n", Hub, "link", "add", "br0", "type", "bridge");
            Ip("-n", Hub, "link", "set", "br0", "up");
            for (var i = 0; i < nodes; i++) Add(i);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static int s_sets;

    public int Count { get; private set; }

    private string Hub => _prefix + "hub";

    /// <summary>The name of node <paramref name="i"/>'s namespace (as <c>ip netns</c> knows it).</summary>
    public string Name(int i) => $"{_prefix}n{i}";

    /// <summary>Node <paramref name="i"/>'s address: not loopback, reachable from the other nodes' namespaces only.</summary>
    public string Address(int i) => $"10.200.{_subnet}.{i + 1}";

    /// <summary>Adds one more node namespace (index <see cref="Count"/>) on the same bridge.</summary>
    public int Add(int i)
    {
        var name = Name(i);
        Ip("netns", "add", name);
        _created.Add(name);
        Ip("-n", name, "link", "set", "lo", "up");
        Ip("link", "add", "eth0", "netns", name, "type", "veth", "peer", "name", $"p{i}", "netns", Hub);
        Ip("-n", name, "addr", "add", $"{Address(i)}/24", "dev", "eth0");
        Ip("-n", name, "link", "set", "eth0", "up");
        Ip("-n", Hub, "link", "set", $"p{i}", "master", "br0");
        Ip("-n", Hub, "link", "set", $"p{i}", "up");
        Count = Math.Max(Count, i + 1);
        return i;
    }

    /// <summary>A process started inside node <paramref name="i"/>'s namespace.</summary>
    public ProcessStartInfo Exec(int i, string file, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in new[] { "netns", "exec", Name(i), file }.Concat(args)) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>A TCP socket that lives in node <paramref name="i"/>'s namespace (created on a thread that entered it).</summary>
    public Socket Socket(int i)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var own = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle($"/var/run/netns/{Name(i)}");
                if (SetNs((int)target.DangerousGetHandle(), CloneNewNet) != 0) throw new IOException($"setns {Name(i)}: errno {Marshal.GetLastPInvokeError()}");
                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                }
                finally
                {
                    SetNs((int)own.DangerousGetHandle(), CloneNewNet);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new IOException($"cannot make a socket in {Name(i)}", error);
    }

    /// <summary>An HttpClient whose connections start inside node <paramref name="from"/>'s namespace.</summary>
    public HttpClient Client(int from, string baseAddress, Func<System.Security.Cryptography.X509Certificates.X509Certificate2, System.Net.Security.SslPolicyErrors, bool>? trust = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = Socket(from);
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        if (trust is not null)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 c && trust(c, errors);
        return new HttpClient(handler) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };
    }

    public void Dispose()
    {
        foreach (var name in Enumerable.Reverse(_created))
        {
            try { Ip("netns", "del", name); }
            catch (InvalidOperationException) { /* already gone */ }
        }
        _created.Clear();
    }

    private static void Ip(params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {error.Trim()}");
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
