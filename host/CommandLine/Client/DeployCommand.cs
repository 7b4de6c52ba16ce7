using System.CommandLine;
using System.Text;
using System.Text.Json;
using Motey.Host.Core.Model;

namespace Motey.Host.CommandLine.Client;

/// <summary>
/// `motey service deploy FILE`: POSTs the blueprint, then prints each change of its images until every image runs
/// (exit 0), the service ends in ERROR or TERMINATED (exit 1), or --timeout runs out (exit 4). The changes come from the
/// node's events (GET /v1/events, opened before the POST so that none is missed); without them, from polling the service.
/// </summary>
internal static class DeployCommand
{
    /// <summary>How long the events stream may take to say it is ready before the command polls instead.</summary>
    private static readonly TimeSpan EventsReadyTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static Command Build(ClientOptions options, CliConsole console)
    {
        var file = new Argument<string>("FILE") { Description = "the blueprint (YAML); - reads it from stdin" };
        var noWait = new Option<bool>("--no-wait") { Description = "return once the node accepted the blueprint" };
        var timeout = ServiceCommands.TimeoutOption("how long to wait for every image to run (exit 4 when they do not)", 300);
        var command = new Command("deploy", "deploy a service from a blueprint and follow it until every image runs, or it fails") { file, noWait, timeout };
        options.SetAction(command, console, (result, api, ct) =>
            RunAsync(api, result.GetValue(file)!, result.GetValue(noWait), result.GetValue(timeout), ct));
        return command;
    }

    private static async Task<int> RunAsync(NodeApi api, string file, bool noWait, int seconds, CancellationToken cancellationToken)
    {
        var blueprint = await ReadBlueprintAsync(file, api.Console, cancellationToken);
        var output = api.Console.Out;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Subscribed before the POST: every change of the new service comes after what the feed has read.
        await using var feed = noWait ? null : await EventFeed.OpenAsync(api, EventsReadyTimeout, deadline.Token);

        using var response = await api.SendAsync(HttpMethod.Post, "/v1/service", new StringContent(blueprint, Encoding.UTF8, "application/x-yaml"),
            cancellationToken);
        var body = await api.ReadAsync(response, cancellationToken);
        var service = ServiceCommands.Parse<Service>(body);
        var who = $"service {service.Id} ({service.ServiceName})";
        if (noWait)
        {
            if (api.Json) api.WriteJson(body);
            else output.WriteLine($"{who} accepted by {api.Url}");
            return 0;
        }
        if (!api.Json) output.WriteLine($"{who} accepted by {api.Url}; waiting until every image runs (at most {seconds} s)");
        deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
        var progress = new Progress(service, api.Json ? TextWriter.Null : output);
        try
        {
            var final = (feed is null ? null : await progress.FollowAsync(feed, api, deadline.Token))
                ?? await progress.PollAsync(api, PollInterval, deadline.Token);
            if (api.Json) api.WriteJson(await api.GetStringAsync(ServiceCommands.ServicePath(service.Id), cancellationToken));
            if (final.State == ServiceState.Running)
            {
                if (!api.Json) output.WriteLine($"{who} is RUNNING");
                return 0;
            }
            throw new CliException(CliException.Failed, $"{who} ended in {ServiceCommands.Name(final.State)}: {ServiceCommands.Reason(final)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var now = await ServiceCommands.TryGetAsync(api, service.Id, cancellationToken, api.Json ? api.WriteJson : null);
            var state = now is null ? "gone" : $"{ServiceCommands.Name(now.State)} ({ServiceCommands.Reason(now)})";
            throw new CliException(CliException.TimedOut,
                $"{who} is not RUNNING after {seconds} s: it is {state}; it stays deployed (`motey service rm {service.Id}` removes it)");
        }
    }

    private static async Task<string> ReadBlueprintAsync(string file, CliConsole console, CancellationToken cancellationToken)
    {
        try
        {
            if (file == "-")
            {
                using var reader = new StreamReader(console.In(), Encoding.UTF8);
                return await reader.ReadToEndAsync(cancellationToken);
            }
            return await File.ReadAllTextAsync(file, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(CliException.BadUsage, $"cannot read the blueprint {(file == "-" ? "from stdin" : file)}: {e.Message}");
        }
    }

    /// <summary>Prints one line per change of an image and tells when the service has got where it goes.</summary>
    private sealed class Progress(Service service, TextWriter output)
    {
        private readonly (ImageStateName State, string? Node, string Message)[] _images =
            service.Images.Select(i => (new ImageStateName((int)i.State, ServiceCommands.Name(i.State)), i.Node, i.StateMessage)).ToArray();

        /// <summary>Follows the events; the service at its end, or null when the stream ended first (then poll).</summary>
        public async Task<Service?> FollowAsync(EventFeed feed, NodeApi api, CancellationToken cancellationToken)
        {
            try
            {
                while (await feed.NextAsync() is { } message)
                {
                    if (message.IsComment) continue;
                    if (message.Type == "reset")
                    {
                        // The node dropped events: read the state instead.
                        if (await CheckAsync(api, cancellationToken) is { } settled) return settled;
                        continue;
                    }
                    if (message.Type is not ("image" or "service")) continue;
                    using var data = JsonDocument.Parse(message.Data);
                    var e = data.RootElement;
                    if (Text(e, "service_id") != service.Id) continue;
                    if (message.Type == "image")
                    {
                        var index = e.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : -1;
                        var state = e.TryGetProperty("state", out var s) && s.TryGetInt32(out var v) ? v : -1;
                        Report(index, Text(e, "name") ?? "", new ImageStateName(state, Text(e, "state_name") ?? state.ToString()),
                            Text(e, "node"), Text(e, "state_message") ?? "");
                        if (_images.Length > 0 && _images.All(x => x.State.Number == (int)ServiceState.Running))
                            return await CheckAsync(api, cancellationToken) ?? await CheckUntilSettledAsync(api, cancellationToken);
                    }
                    else if (Text(e, "change") == "removed"
                        || (e.TryGetProperty("state", out var st) && st.TryGetInt32(out var sv) && Settled((ServiceState)sv)))
                    {
                        return await ServiceCommands.TryGetAsync(api, service.Id, cancellationToken)
                            ?? throw new CliException(CliException.Failed, $"service {service.Id} ({service.ServiceName}) was removed");
                    }
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException or JsonException)
            {
                // The stream broke or said something unreadable: polling goes on from here.
            }
            return null;
        }

        /// <summary>Polls the service every <paramref name="interval"/> until it has settled.</summary>
        public async Task<Service> PollAsync(NodeApi api, TimeSpan interval, CancellationToken cancellationToken)
        {
            while (true)
            {
                if (await CheckAsync(api, cancellationToken) is { } settled) return settled;
                await Task.Delay(interval, cancellationToken);
            }
        }

        private async Task<Service> CheckUntilSettledAsync(NodeApi api, CancellationToken cancellationToken) =>
            await PollAsync(api, TimeSpan.FromMilliseconds(200), cancellationToken);

        /// <summary>Reads the service, reports what changed; the service when it has settled, else null.</summary>
        private async Task<Service?> CheckAsync(NodeApi api, CancellationToken cancellationToken)
        {
            var now = await ServiceCommands.TryGetAsync(api, service.Id, cancellationToken)
                ?? throw new CliException(CliException.Failed, $"service {service.Id} ({service.ServiceName}) was removed");
            for (var i = 0; i < now.Images.Count; i++)
            {
                var image = now.Images[i];
                Report(i, image.Name, new ImageStateName((int)image.State, ServiceCommands.Name(image.State)), image.Node, image.StateMessage);
            }
            return Settled(now.State) ? now : null;
        }

        private static bool Settled(ServiceState state) => state is ServiceState.Running or ServiceState.Error or ServiceState.Terminated;

        /// <summary>"05:51:02  images[0] sleep  RUNNING on 127.0.0.2  message", when the image changed since its last line.</summary>
        private void Report(int index, string name, ImageStateName state, string? node, string message)
        {
            if (index < 0 || index >= _images.Length) return;
            if (_images[index] == (state, node, message)) return;
            _images[index] = (state, node, message);
            var line = $"{DateTime.Now:HH:mm:ss}  images[{index}] {name}  {state.Name}{(node is null ? "" : $" on {node}")}"
                + (message.Length > 0 ? $"  {message}" : "");
            output.WriteLine(line);
        }

        private static string? Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    private readonly record struct ImageStateName(int Number, string Name);
}
