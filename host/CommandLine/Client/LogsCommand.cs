using System.CommandLine;
using System.Text;

namespace Motey.Host.CommandLine.Client;

/// <summary>
/// `motey service logs SERVICE [--image I] [--tail N] [-f] [-t]`: what an image's instance prints, from
/// GET /v1/service/{id}/logs, written out as it arrives (with -f until the instance ends or Ctrl-C).
/// --json asks for NDJSON: one {"time","stream","text"} object per line.
/// </summary>
internal static class LogsCommand
{
    public static Command Build(ClientOptions options, CliConsole console)
    {
        var target = ServiceCommands.ServiceArgument();
        var image = new Option<string>("--image")
        {
            Description = "which image: its index (0, 1, ...) or its name; needed when the service has several",
            HelpName = "IMAGE",
        };
        var tail = new Option<int?>("--tail")
        {
            Description = "only the last N lines",
            HelpName = "N",
            CustomParser = r => ServiceCommands.Whole(r, "--tail", "a number of lines, 0 or more", 0),
        };
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new lines until the instance ends (or Ctrl-C)" };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "put each line's time (RFC 3339) before it, where the engine gives one" };
        var command = new Command("logs", "what an image's instance prints (stdout and stderr)") { target, image, tail, follow, timestamps };
        options.SetAction(command, console, async (result, api, ct) =>
        {
            var (service, _) = await ServiceCommands.ResolveAsync(api, result.GetValue(target)!, ct);
            var query = new List<string>();
            if (result.GetValue(image) is { } i) query.Add($"image={Uri.EscapeDataString(i)}");
            if (result.GetValue(tail) is { } n) query.Add($"tail={n}");
            if (result.GetValue(follow)) query.Add("follow=true");
            if (result.GetValue(timestamps)) query.Add("timestamps=true");
            var path = $"{ServiceCommands.ServicePath(service.Id)}/logs" + (query.Count > 0 ? "?" + string.Join("&", query) : "");
            using var response = await api.SendAsync(HttpMethod.Get, path, null, ct, stream: true,
                accept: api.Json ? "application/x-ndjson" : "text/plain");
            if (!response.IsSuccessStatusCode)
            {
                var refusal = await api.RefusalAsync(response, ct);
                // The node names its query parameter; here it is an option.
                throw new CliException(refusal.ExitCode, refusal.Message.Replace("choose one with ?image=", "choose one with --image", StringComparison.Ordinal));
            }
            await CopyAsync(await response.Content.ReadAsStreamAsync(ct), api.Console.Out, ct);
            return 0;
        });
        return command;
    }

    /// <summary>Writes what arrives as it arrives: each read is flushed, so `-f | grep` sees lines at once.</summary>
    private static async Task CopyAsync(Stream body, TextWriter output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8);
        var buffer = new char[16 * 1024];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await output.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new CliException(CliException.NoAnswer, $"the node stopped sending the logs: {e.Message}");
        }
    }
}
