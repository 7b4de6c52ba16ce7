using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using YamlDotNet.Core;

namespace Motey.Host.Parsing;

/// <summary>
/// One YAML document as a JSON tree, plus where each part came from, so a schema error can give
/// its line and column. Positions are keyed by node identity: two equal values are different places.
/// </summary>
internal sealed class YamlTree
{
    private readonly Dictionary<JsonNode, Mark> _nodes = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Slot, Mark> _slots = [];
    private readonly Dictionary<JsonNode, string> _plainText = new(ReferenceEqualityComparer.Instance);

    /// <summary>The document's root; null for an empty document or an explicit null.</summary>
    public JsonNode? Root { get; internal set; }

    /// <summary>True when the stream holds no document, or a document with nothing in it.</summary>
    public bool IsEmpty { get; internal set; }

    internal Mark RootMark { get; set; }

    /// <summary>Position of <paramref name="node"/>, or of the root when it is null at the root.</summary>
    public TextPosition? PositionOf(JsonNode? node) =>
        node is null ? ToPosition(RootMark) : _nodes.TryGetValue(node, out var mark) ? ToPosition(mark) : null;

    /// <summary>
    /// Position of the value in a member or item of <paramref name="parent"/>: the value's own start when
    /// it is a node, else where its key (or item) was written — a null value has no node to hold a position.
    /// </summary>
    public TextPosition? PositionOf(JsonNode parent, string keyOrIndex)
    {
        var value = parent switch
        {
            JsonObject o when o.TryGetPropertyValue(keyOrIndex, out var v) => v,
            JsonArray a when int.TryParse(keyOrIndex, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.Count => a[i],
            _ => null,
        };
        if (value is not null && _nodes.TryGetValue(value, out var own)) return ToPosition(own);
        return _slots.TryGetValue(new Slot(parent, keyOrIndex), out var mark) ? ToPosition(mark) : null;
    }

    /// <summary>Where a mapping key was written.</summary>
    public TextPosition? KeyPosition(JsonObject parent, string key) =>
        _slots.TryGetValue(new Slot(parent, key), out var mark) ? ToPosition(mark) : null;

    /// <summary>
    /// The text of a plain scalar the core schema typed as a number or boolean, e.g. <c>0123</c> for 123;
    /// lets a field that wants a string (an id) take what the user wrote.
    /// </summary>
    public string? PlainTextOf(JsonNode node) => _plainText.GetValueOrDefault(node);

    internal void MarkNode(JsonNode? node, Mark mark)
    {
        if (node is not null) _nodes.TryAdd(node, mark);
    }

    /// <summary>Records a mapping key's position, or a list item's.</summary>
    internal void MarkSlot(JsonNode parent, string keyOrIndex, Mark mark) => _slots[new Slot(parent, keyOrIndex)] = mark;

    internal void KeepPlainText(JsonNode node, string text) => _plainText[node] = text;

    private static TextPosition? ToPosition(Mark mark) => mark.Line > 0 ? new TextPosition(mark.Line, mark.Column) : null;

    // Identity of the parent, not its content: JsonNode does not override Equals, but say so explicitly.
    private readonly record struct Slot(JsonNode Parent, string Name)
    {
        public bool Equals(Slot other) => ReferenceEquals(Parent, other.Parent) && Name == other.Name;

        public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(Parent), Name);
    }
}
