using System.Runtime.CompilerServices;
using System.Text;

namespace Motey.Host.CommandLine.Client;

/// <summary>One message of a Server-Sent Events stream: an event (type, data, id) or a comment line.</summary>
internal sealed record SseMessage(string Type, string Data, string? Id, string? Comment)
{
    public bool IsComment => Comment is not null;
}

/// <summary>Reads a text/event-stream (the WHATWG format: field lines, blank line ends an event, ':' starts a comment).</summary>
internal static class ServerSentEvents
{
    public static async IAsyncEnumerable<SseMessage> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? type = null, id = null;
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData) yield return new SseMessage(type ?? "message", data.ToString(), id, null);
                type = null;
                data.Clear();
                hasData = false;
                continue;
            }
            if (line[0] == ':')
            {
                yield return new SseMessage("", "", null, line[1..].TrimStart());
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "event":
                    type = value;
                    break;
                case "data":
                    if (hasData) data.Append('\n');
                    data.Append(value);
                    hasData = true;
                    break;
                case "id":
                    id = value;
                    break;
                // retry and unknown fields: nothing a command needs
            }
        }
    }
}
