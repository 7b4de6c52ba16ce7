namespace Motey.Host.CommandLine.Client;

/// <summary>
/// The node's event stream (GET /v1/events?types=service,image), open and ready: its opening comment has been read,
/// so every event after that moment is still to come. Null from <see cref="OpenAsync"/> when the node has no such route
/// or does not say it is ready in time: the caller polls instead.
/// </summary>
internal sealed class EventFeed : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _stop;
    private readonly IAsyncEnumerator<SseMessage> _messages;

    private EventFeed(HttpResponseMessage response, CancellationTokenSource stop, IAsyncEnumerator<SseMessage> messages)
    {
        _response = response;
        _stop = stop;
        _messages = messages;
    }

    public static async Task<EventFeed?> OpenAsync(NodeApi api, TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await api.SendAsync(HttpMethod.Get, "/v1/events?types=service,image", null, cancellationToken, stream: true, accept: "text/event-stream");
        }
        catch (CliException)
        {
            return null;  // the POST that follows says what is wrong with the node
        }
        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            response.Dispose();
            return null;
        }
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var messages = ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(cancellationToken), stop.Token).GetAsyncEnumerator(stop.Token);
        var feed = new EventFeed(response, stop, messages);
        stop.CancelAfter(readyTimeout);
        try
        {
            while (await messages.MoveNextAsync())
            {
                if (messages.Current.IsComment)
                {
                    stop.CancelAfter(Timeout.InfiniteTimeSpan);
                    return feed;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // not ready in time
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // broken at once
        }
        await feed.DisposeAsync();
        return null;
    }

    /// <summary>The next message; null when the stream has ended.</summary>
    public async Task<SseMessage?> NextAsync() => await _messages.MoveNextAsync() ? _messages.Current : null;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _messages.DisposeAsync();
        _response.Dispose();
        _stop.Dispose();
    }
}
