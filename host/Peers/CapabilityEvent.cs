using Motey.Host.Core.Capabilities;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;

namespace Motey.Host.Peers;

/// <summary>
/// One capability event, as the original Motey's capability engine reads them:
/// <c>add_capability#[{"capability": "gpu", "capability_type": "hardware"}]</c> or <c>remove_capability#[...]</c>.
/// </summary>
internal sealed record CapabilityEvent(string Command, IReadOnlyList<Capability> Capabilities)
{
    public const string AddCommand = "add_capability";
    public const string RemoveCommand = "remove_capability";

    public bool IsAdd => Command == AddCommand;

    /// <summary>The message text of this event.</summary>
    public string Format() => $"{Command}#{System.Text.Json.JsonSerializer.Serialize(Capabilities)}";

    /// <summary>The event in <paramref name="frames"/>, or null with the reason it is refused. Never throws on bad input.</summary>
    public static CapabilityEvent? Parse(IReadOnlyList<byte[]> frames, out string? problem)
    {
        var text = Frames.ReadText(frames, out problem);
        return text is null ? null : Parse(text, out problem);
    }

    /// <inheritdoc cref="Parse(IReadOnlyList{byte[]}, out string?)"/>
    public static CapabilityEvent? Parse(string text, out string? problem)
    {
        problem = null;
        if (text.Length == 0)
        {
            problem = "the event is empty";
            return null;
        }
        var hash = text.IndexOf('#');
        if (hash < 0)
        {
            problem = $"no '#' separates the command ({AddCommand} or {RemoveCommand}) from the capability list";
            return null;
        }
        var command = text[..hash];
        if (command is not (AddCommand or RemoveCommand))
        {
            problem = $"unknown command '{Frames.Preview(command, 40)}'; expected {AddCommand} or {RemoveCommand}";
            return null;
        }
        var parsed = CapabilityListParser.Parse(text[(hash + 1)..]);
        if (!parsed.Ok)
        {
            problem = "invalid capability list: " + string.Join("; ", parsed.Errors.Take(5));
            return null;
        }
        var refused = NodeCapabilities.Refusals(parsed.Value);
        if (refused.Count > 0)
        {
            problem = $"{refused[0].Problem}, not by events: {string.Join(", ", refused.Select(r => parsed.Value[r.Index].Name))}";
            return null;
        }
        return new CapabilityEvent(command, parsed.Value);
    }
}
