using System.Net.Sockets;

namespace Motey.Host.Peers.Zmtp;

/// <summary>
/// The socket file of a bound ipc endpoint: made way for (a stale one removed, a live one or any other file left alone),
/// bound with its permissions set, and probed.
/// </summary>
/// <remarks>
/// Who may connect: on Linux connecting to a Unix socket needs write permission on its file, and that is the whole
/// authentication of an ipc endpoint (ZMTP's NULL mechanism has none, and CURVE is not offered here). The file is made
/// <see cref="Mode"/> (0660): the agent's user and the members of its group may publish, others may not (root always
/// may). The config rules count ipc as local: it never leaves this host.
/// </remarks>
internal static class IpcSocketFile
{
    /// <summary>rw for the agent's user and group: who may publish capability events (connect needs write permission).</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private const int Backlog = 128;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>open(2) of a socket file fails with ENXIO; .NET puts the errno into the IOException's HResult.</summary>
    private const int Enxio = 6;

    public enum State
    {
        /// <summary>No file at the path.</summary>
        Missing,
        /// <summary>A process accepts connections on it.</summary>
        Listening,
        /// <summary>A socket file nobody listens on: left behind by a process that was killed.</summary>
        Stale,
        /// <summary>A file of another kind (or a folder): never removed.</summary>
        NotASocket,
        /// <summary>This user may not connect to it, so cannot tell whether it is in use.</summary>
        Forbidden,
    }

    /// <summary>What is at <paramref name="path"/>, found by connecting to it (and, when refused, by opening it).</summary>
    public static async Task<State> ProbeAsync(string path)
    {
        if (Directory.Exists(path)) return State.NotASocket;
        if (!File.Exists(path)) return State.Missing;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            return State.Listening;
        }
        catch (OperationCanceledException)
        {
            return State.Listening;  // its backlog is full: someone listens but does not accept
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Connecting to a regular file is refused too: only a socket file fails open(2) with ENXIO.
            return await IsSocketFileAsync(path) ? State.Stale : State.NotASocket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            return State.Forbidden;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            return State.Missing;  // ENOENT: removed meanwhile
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain)
        {
            return State.Listening;  // EAGAIN: a full backlog refuses a non-blocking connect at once
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ProtocolType or SocketError.ProtocolNotSupported)
        {
            return State.NotASocket;  // EPROTOTYPE: a datagram or seqpacket socket, someone else's
        }
    }

    /// <summary>
    /// A listening socket bound on <paramref name="path"/> with <see cref="Mode"/>, after removing a stale socket file
    /// there; throws <see cref="PeerBindException"/> (naming <paramref name="endpoint"/> and why) when the path is in use,
    /// is another kind of file, or cannot be bound. <see cref="Socket.Dispose()"/> removes the file again.
    /// </summary>
    public static async Task<Socket> BindAsync(string path, string endpoint, string what, ILogger log)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) throw Refused(endpoint, what, $"the folder {folder} does not exist");
        State state;
        try
        {
            state = await ProbeAsync(path);
        }
        catch (SocketException e)
        {
            throw Refused(endpoint, what, $"{path} exists and connecting to it to see whether it is in use failed ({e.Message}); it is left "
                + "alone: remove it, or give this agent another socket file");
        }
        switch (state)
        {
            case State.Listening:
                throw Refused(endpoint, what, $"another process listens on {path} (another agent, or the original Motey's capability engine?); "
                    + "stop it, or give this agent another socket file");
            case State.Forbidden:
                throw Refused(endpoint, what, $"{path} exists and this user may not connect to it to see whether it is in use (it belongs to "
                    + $"another user{ModeOf(path)}); remove it, or give this agent another socket file");
            case State.NotASocket:
                throw Refused(endpoint, what, $"{path} exists and is not a socket; it is left alone: remove it, or give this agent another socket file");
            case State.Stale:
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw Refused(endpoint, what, $"{path} is a stale socket file (nothing listens on it) but this user may not remove it "
                        + $"({e.Message}); remove it, or give this agent another socket file");
                }
                log.LogInformation("Removed the stale socket file {Path}: nothing listened on it (left by a process that was killed?)", path);
                break;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            // Before Listen: until then every connect is refused, so nobody connects under the wider mode bind(2) left.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, Mode);
            socket.Listen(Backlog);
            return socket;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            var reason = e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                ? $"another process bound {path} just now"
                : e is SocketException { SocketErrorCode: SocketError.AccessDenied } or UnauthorizedAccessException
                    ? $"this user may not create a socket file in {folder}"
                    : e.Message;
            throw new PeerBindException($"cannot bind the {what} on {endpoint}: {reason}", e);
        }
    }

    private static async Task<bool> IsSocketFileAsync(string path)
    {
        // A FIFO would block open(2) until a writer comes: such a path is not a socket, and the thread is left waiting.
        var open = Task.Run(() =>
        {
            try
            {
                using var _ = File.OpenHandle(path);
                return false;
            }
            catch (IOException e) when (e.HResult == Enxio)
            {
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        });
        return await Task.WhenAny(open, Task.Delay(ProbeTimeout)) == open && await open;
    }

    private static string ModeOf(string path)
    {
        try
        {
            return OperatingSystem.IsWindows() ? "" : $": mode {Convert.ToString((int)File.GetUnixFileMode(path), 8).PadLeft(4, '0')}";
        }
        catch (IOException)
        {
            return "";  // gone meanwhile
        }
    }

    private static PeerBindException Refused(string endpoint, string what, string reason) => new($"cannot bind the {what} on {endpoint}: {reason}");
}
