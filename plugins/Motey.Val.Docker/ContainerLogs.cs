using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker;

/// <summary>
/// One read of a container's logs through the engine's logs API: stdout and stderr apart, each line with the time the
/// engine recorded, the last N lines, and with follow the lines printed afterwards until the container stops (the
/// engine then ends the stream). Only this VAL's containers: a peer must not read whatever else runs on the host.
/// </summary>
internal sealed class ContainerLogs : IDisposable
{
    private const int ReadSize = 16 * 1024;

    private readonly MultiplexedStream _stream;
    private readonly string _instanceId;
    private readonly LogFrames _frames = new();
    private readonly byte[] _buffer = new byte[ReadSize];

    private ContainerLogs(MultiplexedStream stream, string instanceId)
    {
        _stream = stream;
        _instanceId = instanceId;
    }

    /// <summary>
    /// Opens the stream; throws <see cref="ValException"/> for an unknown container, one without this VAL's
    /// <c>motey.managed</c> label, one named otherwise than by its full ID, or an engine that refuses or does not answer.
    /// </summary>
    public static async Task<ContainerLogs> OpenAsync(DockerEngine engine, string instanceId, LogRequest request, CancellationToken cancellationToken)
    {
        if (request.Tail is < 0) throw new ValException($"tail: expected a number of lines, 0 or more, got {request.Tail}");
        var container = await ContainerQueries.InspectAsync(engine, instanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new ValException($"instance '{instanceId}' does not exist on this node");
        // The engine also finds a container by its name or a prefix of its ID: only the full ID this VAL gave out names
        // its instance, so the agent's check that the instance belongs to the service cannot be walked around.
        if (container.Config?.Labels is not { } labels || !labels.TryGetValue(ManagedLabels.Managed, out var managed) || managed != "true"
            || !string.Equals(container.ID, instanceId, StringComparison.Ordinal))
        {
            throw new ValException($"container '{instanceId}' is not an instance of this VAL");
        }
        if (container.Config.Tty)
        {
            // This VAL never creates one: with a TTY the engine sends one unframed stream that cannot be told apart.
            throw new ValException($"container '{instanceId}' has a TTY, so its output cannot be read as lines");
        }
        var parameters = new ContainerLogsParameters
        {
            ShowStdout = true,
            ShowStderr = true,
            Timestamps = true,
            Follow = request.Follow,
            Tail = request.Tail?.ToString(CultureInfo.InvariantCulture) ?? "all",
        };
        // tty: true only tells Docker.DotNet not to demultiplex: its demultiplexer hides where a frame starts, and the
        // time at the start of each frame (each piece of a long line has one) must be taken off the text.
        var stream = await engine.CallAsync(
            $"reading the logs of container {instanceId}",
            (client, token) => client.Containers.GetContainerLogsAsync(container.ID, tty: true, parameters, token),
            cancellationToken).ConfigureAwait(false);
        return new ContainerLogs(stream, instanceId);
    }

    /// <summary>
    /// Reads the next bytes and adds the lines they complete to <paramref name="lines"/>; at the end of the stream adds
    /// the partial last lines too and returns false. Returns false at once, adding nothing, when
    /// <paramref name="cancellationToken"/> is cancelled. Throws <see cref="ValException"/> when the stream breaks.
    /// </summary>
    public async Task<bool> ReadAsync(List<LogLine> lines, CancellationToken cancellationToken)
    {
        try
        {
            var read = await _stream.ReadOutputAsync(_buffer, 0, _buffer.Length, cancellationToken).ConfigureAwait(false);
            if (read.EOF)
            {
                _frames.Finish(lines);
                return false;
            }
            _frames.Decode(_buffer.AsSpan(0, read.Count), lines);
            return true;
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException)
        {
            throw new ValException($"reading the logs of container {_instanceId} failed: {DockerEngine.Describe(e)}", e);
        }
    }

    public void Dispose() => _stream.Dispose();
}
