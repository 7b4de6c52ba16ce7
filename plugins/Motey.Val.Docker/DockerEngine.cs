using System.Net.Sockets;
using Docker.DotNet;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>
/// The client of one Docker engine, turning its failures into <see cref="ValException"/>s a user can read: the
/// engine's own message for a refused request, "not reachable" naming the URL when it does not answer.
/// </summary>
internal sealed class DockerEngine : IDisposable
{
    private readonly DockerClientConfiguration _configuration;
    private readonly string? _socketPath;

    /// <summary>Creates the client without connecting: the engine may start after the agent.</summary>
    public DockerEngine(DockerSettings settings)
    {
        Url = settings.Url;
        _socketPath = settings.Endpoint.Scheme == "unix" ? settings.Endpoint.LocalPath : null;
        _configuration = new DockerClientConfiguration(settings.Endpoint);
        Client = _configuration.CreateClient();
    }

    /// <summary>The engine's address as configured.</summary>
    public string Url { get; }

    public DockerClient Client { get; }

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

    /// <summary>Whether the engine answers a ping within <paramref name="timeout"/>. Never throws.</summary>
    public async Task<EngineHealth> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await Client.System.PingAsync(deadline.Token).ConfigureAwait(false);
            return EngineHealth.Available;
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
        Client.Dispose();
        _configuration.Dispose();
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
}
