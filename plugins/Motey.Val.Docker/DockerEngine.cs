using System.Net.Sockets;
using Docker.DotNet;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>
/// The client of one Docker engine, turning its failures into <see cref="ValException"/>s a user can read: the
/// engine's own message for a refused request, "not reachable" naming the URL when it does not answer. The health ping
/// and the container list go over the <see cref="EngineWire"/>; Docker.DotNet is created at the first other request.
/// </summary>
internal sealed class DockerEngine : IDisposable
{
    private readonly Uri _endpoint;
    private readonly string? _socketPath;
    private readonly EngineWire _wire;
    private readonly Lock _connecting = new();
    private Connection? _connection;
    private bool _disposed;

    /// <summary>Creates the client without connecting: the engine may start after the agent.</summary>
    public DockerEngine(DockerSettings settings)
    {
        Url = settings.Url;
        _endpoint = settings.Endpoint;
        _socketPath = settings.Endpoint.Scheme == "unix" ? settings.Endpoint.LocalPath : null;
        _wire = new EngineWire(settings.Endpoint);
    }

    /// <summary>The engine's address as configured.</summary>
    public string Url { get; }

    /// <summary>Docker.DotNet's client, created at the first request that needs it (not the ping, not the list).</summary>
    public DockerClient Client => (Volatile.Read(ref _connection) ?? Connect()).Client;

    /// <summary>Runs one request; <paramref name="action"/> (e.g. <c>pulling 'alpine'</c>) prefixes the engine's refusal.</summary>
    public async Task<T> CallAsync<T>(string action, Func<DockerClient, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(Client, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException e)
        {
            throw new ValException($"{action} failed: {EngineMessage.Of(e)}", e);
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken))
        {
            throw new ValException($"docker engine at {Url} is not reachable: {Explain(e)}", e);
        }
    }

    /// <inheritdoc cref="CallAsync{T}"/>
    public Task CallAsync(string action, Func<DockerClient, CancellationToken, Task> call, CancellationToken cancellationToken) =>
        CallAsync(action, async (client, token) =>
        {
            await call(client, token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>
    /// A GET over the <see cref="EngineWire"/>, its body read by <paramref name="read"/>; fails as <see cref="CallAsync{T}"/>
    /// does: <paramref name="action"/> and the engine's message for a refusal, "not reachable" naming the URL.
    /// </summary>
    public async Task<T> GetAsync<T>(string action, string pathAndQuery, Func<string, T> read, CancellationToken cancellationToken)
    {
        EngineAnswer answer;
        try
        {
            answer = await _wire.GetAsync(pathAndQuery, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ValException($"docker engine at {Url} is not reachable: {Explain(e)}", e);
        }
        if (!answer.IsSuccess) throw new ValException($"{action} failed: {EngineMessage.Of(answer.Body, answer.StatusCode)}");
        return read(answer.Body);
    }

    /// <summary>Whether the engine answers a ping within <paramref name="timeout"/>. Never throws.</summary>
    public async Task<EngineHealth> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var answer = await _wire.GetAsync("/_ping", deadline.Token).ConfigureAwait(false);
            return answer.IsSuccess ? EngineHealth.Available : EngineHealth.Unavailable($"docker engine at {Url} does not answer: {answer.Refusal.Trim()}");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var why = cancellationToken.IsCancellationRequested ? "the check was cancelled" : $"no answer within {timeout.TotalSeconds:0.#} s";
            return EngineHealth.Unavailable($"docker engine at {Url} does not answer: {why}");
        }
        catch (Exception e)
        {
            // The contract forbids throwing here: whatever went wrong is the answer, with its message.
            return EngineHealth.Unavailable($"docker engine at {Url} does not answer: {Explain(e)}");
        }
    }

    public void Dispose()
    {
        lock (_connecting)
        {
            _disposed = true;
            _connection?.Dispose();
        }
    }

    private Connection Connect()
    {
        lock (_connecting)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null) Volatile.Write(ref _connection, new Connection(_endpoint));
            return _connection;
        }
    }

    /// <summary>Connection failures, and timeouts that are not the caller's own cancellation.</summary>
    private static bool IsUnreachable(Exception e, CancellationToken cancellationToken) => e switch
    {
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Why the engine did not answer; a missing socket file says more than the socket error it causes.</summary>
    private string Explain(Exception e) =>
        _socketPath is not null && !File.Exists(_socketPath) ? $"there is no socket {_socketPath} (is dockerd running?)" : Describe(e);

    /// <summary>The messages of an exception and its causes, e.g. <c>Connection failed: Connection refused</c>.</summary>
    internal static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            var message = current.Message.Trim();
            if (message.Length > 0 && !parts.Contains(message)) parts.Add(message);
        }
        return parts.Count > 0 ? string.Join(": ", parts) : e.GetType().Name;
    }

    /// <summary>Docker.DotNet's configuration and client, made together and disposed together.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly DockerClientConfiguration _configuration;

        public Connection(Uri endpoint)
        {
            _configuration = new DockerClientConfiguration(endpoint);
            Client = _configuration.CreateClient();
        }

        public DockerClient Client { get; }

        public void Dispose()
        {
            Client.Dispose();
            _configuration.Dispose();
        }
    }
}
