using System.Net.Sockets;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>Two ends of a real Unix-domain stream connection: the one that connected and the one that accepted.</summary>
internal sealed class UnixPair : IAsyncDisposable
{
    private readonly TempDirectory _folder;

    private UnixPair(TempDirectory folder, NetworkStream connected, NetworkStream accepted)
    {
        _folder = folder;
        Connected = connected;
        Accepted = accepted;
    }

    public NetworkStream Connected { get; }
    public NetworkStream Accepted { get; }

    public static async Task<UnixPair> CreateAsync()
    {
        var folder = new TempDirectory("motey-zmtp-");
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(folder.Path, "s"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen();
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(endpoint);
        var server = await listener.AcceptAsync();
        return new UnixPair(folder, new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    public async ValueTask DisposeAsync()
    {
        await Connected.DisposeAsync();
        await Accepted.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>A peer written octet by octet: what libzmq, an older libzmq or a broken client puts on the wire.</summary>
internal static class RawZmtp
{
    public static byte[] Greeting(byte minor = 1, string mechanism = "NULL")
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[8] = 1;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        greeting[11] = minor;
        System.Text.Encoding.ASCII.GetBytes(mechanism).CopyTo(greeting, 12);
        return greeting;
    }

    public static byte[] Ready(string socketType) => ZmtpCommand.ReadyOf(socketType).Encode();

    public static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        var octets = new byte[count];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.ReadExactlyAsync(octets, deadline.Token);
        return octets;
    }
}
