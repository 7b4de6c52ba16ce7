using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Motey.Host.Parsing;

/// <summary>
/// Reads one YAML document into a JSON tree straight from YamlDotNet's parser events — never through its
/// object deserializer, so nothing in the input can choose a type to construct. Hostile input is bounded:
/// at most <see cref="MaxNodes"/> nodes counting every alias expansion (checked before an alias is copied,
/// so a "billion laughs" costs nothing), at most <see cref="MaxDepth"/> levels of nesting, one document.
/// </summary>
internal sealed class SafeYamlReader
{
    public const int MaxNodes = 10_000;
    public const int MaxDepth = 64;

    private const string KeyNotScalar = "a mapping key must be a plain value, not a mapping or a list";

    private readonly Parser _parser;
    private readonly YamlTree _tree = new();
    private readonly List<InputError> _errors = [];
    private readonly Dictionary<string, Anchor> _anchors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _openAnchors = new(StringComparer.Ordinal);
    private int _nodes;

    private SafeYamlReader(string yaml) => _parser = new Parser(new StringReader(yaml));

    /// <summary>The document as a tree, or every error found; never throws on bad input.</summary>
    public static ParseResult<YamlTree> Read(string yaml)
    {
        if (ForbiddenCharacters.FindInYaml(yaml) is { } forbidden) return ParseResult<YamlTree>.Failure([forbidden]);
        var reader = new SafeYamlReader(yaml);
        try
        {
            reader.ReadStream();
        }
        catch (YamlException ex)
        {
            reader._errors.Add(InputError.At(Where(ex.Start), ex.Message, Position(ex.Start)));
        }
        catch (UnreadableYamlException ex)
        {
            reader._errors.Add(ex.Error);
        }
        return reader._errors.Count == 0 ? ParseResult<YamlTree>.Success(reader._tree) : ParseResult<YamlTree>.Failure(reader._errors);
    }

    private void ReadStream()
    {
        Next(); // StreamStart
        if (Next() is StreamEnd)
        {
            _tree.IsEmpty = true;
            return;
        }
        var first = Next(); // after DocumentStart: the root node
        _tree.IsEmpty = first is Scalar { Value: "", Style: ScalarStyle.Plain, Tag.IsEmpty: true, Anchor.IsEmpty: true };
        _tree.RootMark = first.Start;
        _tree.Root = ReadNode(first, 0, "", out _);
        Next(); // DocumentEnd
        if (Next() is DocumentStart second)
            throw Fatal(second.Start, "the input holds more than one YAML document; send exactly one");
    }

    private JsonNode? ReadNode(ParsingEvent ev, int parentDepth, string path, out int height)
    {
        if (ev is AnchorAlias alias) return Expand(alias, parentDepth, out height);
        if (ev is not NodeEvent node) throw Fatal(ev.Start, $"unexpected {ev.GetType().Name}");

        var anchor = node.Anchor.IsEmpty ? null : node.Anchor.Value;
        if (anchor is not null) _openAnchors.Add(anchor);
        var before = _nodes;
        height = 0;
        JsonNode? value = ev switch
        {
            Scalar scalar => ReadScalar(scalar, path),
            SequenceStart sequence => ReadSequence(sequence, parentDepth + 1, path, out height),
            MappingStart mapping => ReadMapping(mapping, parentDepth + 1, path, out height),
            _ => throw Fatal(ev.Start, $"unexpected {ev.GetType().Name}"),
        };
        _tree.MarkNode(value, ev.Start);
        if (anchor is not null)
        {
            _openAnchors.Remove(anchor);
            // A later anchor of the same name replaces the earlier one, as YAML says.
            _anchors[anchor] = new Anchor(value, _nodes - before, height, (ev as Scalar)?.Value);
        }
        return value;
    }

    private JsonNode? ReadScalar(Scalar scalar, string path)
    {
        Spend(1, scalar.Start);
        var resolved = YamlTags.Resolve(scalar);
        if (resolved.Error is not null) Report(path, resolved.Error, scalar.Start);
        if (resolved.Value is not null && resolved.Kind is ScalarKind.Int or ScalarKind.Float or ScalarKind.Bool && scalar.Style == ScalarStyle.Plain)
            _tree.KeepPlainText(resolved.Value, scalar.Value);
        return resolved.Value;
    }

    private JsonArray ReadSequence(SequenceStart start, int depth, string path, out int height)
    {
        Enter(depth, start.Start);
        if (YamlTags.CheckCollection(start.Tag, YamlTags.Seq) is { } tagError) Report(path, tagError, start.Start);
        var list = new JsonArray();
        height = 1;
        for (var ev = Next(); ev is not SequenceEnd; ev = Next())
        {
            var index = list.Count;
            var item = ReadNode(ev, depth, InputPath.Index(path, index), out var itemHeight);
            list.Add(item);
            _tree.MarkSlot(list, InputPath.Slot(index), ev.Start);
            height = Math.Max(height, itemHeight + 1);
        }
        return list;
    }

    private JsonObject ReadMapping(MappingStart start, int depth, string path, out int height)
    {
        Enter(depth, start.Start);
        if (YamlTags.CheckCollection(start.Tag, YamlTags.Map) is { } tagError) Report(path, tagError, start.Start);
        var map = new JsonObject();
        height = 1;
        for (var keyEvent = Next(); keyEvent is not MappingEnd; keyEvent = Next())
        {
            var key = ReadKey(keyEvent, depth, path);
            var memberPath = InputPath.Member(path, key);
            var value = ReadNode(Next(), depth, memberPath, out var valueHeight);
            height = Math.Max(height, valueHeight + 1);
            if (map.ContainsKey(key))
            {
                var first = _tree.KeyPosition(map, key);
                Report(memberPath, $"duplicate key {YamlSchemaCheck.Quote(key)}{(first is { } p ? $", first given at {p}" : "")}", keyEvent.Start);
                continue;
            }
            map[key] = value;
            _tree.MarkSlot(map, key, keyEvent.Start);
        }
        return map;
    }

    /// <summary>
    /// A key becomes the text it was written as (<c>8080:</c> is the key "8080"): JSON keys are strings,
    /// and typing them would make <c>1:</c> and <c>01:</c> the same key. A mapping or list as a key is refused.
    /// </summary>
    private string ReadKey(ParsingEvent ev, int depth, string path)
    {
        switch (ev)
        {
            // Keys are not nodes of the JSON tree and cost nothing: each comes with a value, which is counted.
            case Scalar scalar:
                // The key is its text, so only a tag can be wrong with it (".inf:" is a fine key).
                var resolved = YamlTags.Resolve(scalar);
                if (!scalar.Tag.IsEmpty && resolved.Error is not null) Report(path, resolved.Error, scalar.Start);
                if (!scalar.Anchor.IsEmpty) _anchors[scalar.Anchor.Value] = new Anchor(resolved.Value, 1, 0, scalar.Value);
                // YAML 1.1's merge key is not in 1.2; refuse it rather than pass "<<" on as a parameter.
                if (scalar is { Value: "<<", Style: ScalarStyle.Plain, Tag.IsEmpty: true })
                    Report(InputPath.Member(path, "<<"), "merge keys (<<) are not supported; write the keys out", scalar.Start);
                return scalar.Value;
            case AnchorAlias alias:
                return Anchored(alias).ScalarText ?? throw Fatal(ev.Start, KeyNotScalar);
            case MappingStart or SequenceStart:
                throw Fatal(ev.Start, KeyNotScalar);
            default:
                throw Fatal(ev.Start, $"unexpected {ev.GetType().Name}");
        }
    }

    /// <summary>Copies an anchored node, after checking the copy fits both limits, so a bomb is refused before it grows.</summary>
    private JsonNode? Expand(AnchorAlias alias, int parentDepth, out int height)
    {
        var anchor = Anchored(alias);
        Spend(anchor.Size, alias.Start);
        if (parentDepth + anchor.Height > MaxDepth) throw TooDeep(alias.Start);
        height = anchor.Height;
        var copy = anchor.Value?.DeepClone();
        _tree.MarkNode(copy, alias.Start);
        return copy;
    }

    private Anchor Anchored(AnchorAlias alias)
    {
        var name = alias.Value.Value;
        if (_openAnchors.Contains(name))
            throw Fatal(alias.Start, $"alias *{name} refers to a node that contains it");
        return _anchors.TryGetValue(name, out var anchor)
            ? anchor
            : throw Fatal(alias.Start, $"alias *{name} has no anchor &{name} before it");
    }

    private void Spend(int nodes, Mark at)
    {
        _nodes += nodes;
        if (_nodes > MaxNodes)
            throw Fatal(at, $"the document has more than {MaxNodes} nodes once aliases are expanded");
    }

    private static void Enter(int depth, Mark at)
    {
        if (depth > MaxDepth) throw TooDeep(at);
    }

    private ParsingEvent Next()
    {
        var previous = _parser.Current;
        bool moved;
        try
        {
            moved = _parser.MoveNext();
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18's scanner throws this instead of a YamlException on some malformed input (found
            // by fuzzing, e.g. a multi-line key in a flow mapping); it is still bad input, not our failure.
            throw Fatal(previous?.End ?? Mark.Empty, "the YAML cannot be read after this point; check the brackets, quotes and indentation near it");
        }
        // The parser always ends a stream with StreamEnd or throws, so running dry means a bug, not bad input.
        if (!moved) throw new InvalidOperationException("The YAML parser ended without StreamEnd.");
        return _parser.Current!;
    }

    private void Report(string path, string message, Mark at) =>
        _errors.Add(InputError.At(InputPath.Display(path), message + new TextPosition(at.Line, at.Column).Suffix, new TextPosition(at.Line, at.Column)));

    private static UnreadableYamlException TooDeep(Mark at) => Fatal(at, $"the document nests deeper than {MaxDepth} levels");

    private static UnreadableYamlException Fatal(Mark at, string message) =>
        new(InputError.At(Where(at), message, Position(at)));

    private static string Where(Mark at) => Position(at)?.ToString() ?? "YAML";

    private static TextPosition? Position(Mark at) => at.Line > 0 ? new TextPosition(at.Line, at.Column) : null;

    /// <param name="Value">The anchored node; copied at each alias.</param>
    /// <param name="Size">Nodes it counts for, its own aliases expanded.</param>
    /// <param name="Height">Levels of nesting it adds where an alias puts it.</param>
    /// <param name="ScalarText">Its text when it is a scalar, so it can serve as a mapping key.</param>
    private sealed record Anchor(JsonNode? Value, int Size, int Height, string? ScalarText);

    /// <summary>Stops reading at an error that leaves nothing sensible to read after it.</summary>
    private sealed class UnreadableYamlException(InputError error) : Exception(error.ToString())
    {
        public InputError Error { get; } = error;
    }
}
