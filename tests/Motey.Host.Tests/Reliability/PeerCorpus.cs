using System.Text;

namespace Motey.Host.Tests.Reliability;

/// <summary>A malformed ZeroMQ message, frame by frame; <see cref="NeedsId"/> cases are malformed only where an instance id is required.</summary>
internal sealed record PeerCase(string Name, byte[][] Frames, bool NeedsId = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Bad messages for the four repliers (image JSON in the original's format) and for the capability event listener
/// (<c>add_capability#[...]</c>). Generated where it helps: every schema slot with a wrong value, every encoding problem.
/// </summary>
internal static class PeerCorpus
{
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static PeerCase Text(string name, string text, bool needsId = false) => new(name, [Utf8(text)], needsId);

    /// <summary>Requests no image replier can act on: each gets the replier's failure reply.</summary>
    public static IEnumerable<PeerCase> Requests()
    {
        foreach (var (name, json) in new[]
        {
            ("an unclosed object", "{"), ("a truncated member", "{\"name\": "), ("single quotes", "{'name': 'x', 'engine': 'simulated'}"),
            ("unquoted names", "{name: x, engine: simulated}"), ("a trailing comma", "{\"name\": \"x\", \"engine\": \"simulated\",}"),
            ("two objects", "{}{}"), ("NaN", "NaN"), ("a comment", "{\"name\": \"x\" /* c */, \"engine\": \"simulated\"}"),
            ("a raw NUL", "\0"), ("YAML", "name: x\nengine: simulated\n"),
        })
            yield return Text($"invalid JSON: {name}", json);

        foreach (var (name, json) in new[]
        {
            ("a list", "[1, 2]"), ("a string", "\"image\""), ("a number", "5"), ("null", "null"), ("true", "true"),
            ("an empty object", "{}"), ("only an id", """{"id": "a"}"""),
            ("name is a number", """{"id": "a", "name": 5, "engine": "simulated"}"""),
            ("name is empty", """{"id": "a", "name": "", "engine": "simulated"}"""),
            ("name is blank", """{"id": "a", "name": "   ", "engine": "simulated"}"""),
            ("name and engine are null", """{"id": "a", "name": null, "engine": null}"""),
            ("engine is a boolean", """{"id": "a", "name": "x", "engine": true}"""),
            ("engine is a list", """{"id": "a", "name": "x", "engine": ["simulated"]}"""),
            ("id is a number", """{"id": 5, "name": "x", "engine": "simulated"}"""),
            ("id is an object", """{"id": {}, "name": "x", "engine": "simulated"}"""),
            ("parameters is a list", """{"id": "a", "name": "x", "engine": "simulated", "parameters": [1]}"""),
            ("parameters is a string", """{"id": "a", "name": "x", "engine": "simulated", "parameters": "p"}"""),
            ("labels is a list", """{"id": "a", "name": "x", "engine": "simulated", "labels": [1]}"""),
            ("a label is a number", """{"id": "a", "name": "x", "engine": "simulated", "labels": {"motey.service.id": 1}}"""),
            ("a label has no name", """{"id": "a", "name": "x", "engine": "simulated", "labels": {"": "v"}}"""),
            ("the engine has no plugin here", """{"id": "a", "name": "x", "engine": "warpdrive"}"""),
            ("the engine is not an engine name", """{"id": "a", "name": "x", "engine": "../../etc"}"""),
            ("name holds an escaped newline", """{"id": "a", "name": "x\n[ERR] forged", "engine": "simulated"}"""),
            ("name holds an escaped lone surrogate", """{"id": "a", "name": "x\ud800", "engine": "simulated"}"""),
            ("a label holds an escaped lone surrogate", """{"id": "a", "name": "x", "engine": "simulated", "labels": {"k": "\udc00"}}"""),
        })
            yield return Text($"wrong schema: {name}", json);

        yield return Text("wrong schema: no id", """{"name": "x", "engine": "simulated"}""", needsId: true);
        yield return Text("wrong schema: empty id", """{"id": "", "name": "x", "engine": "simulated"}""", needsId: true);
        yield return Text("wrong schema: null id", """{"id": null, "name": "x", "engine": "simulated"}""", needsId: true);

        yield return new PeerCase("empty frame", [[]]);
        yield return Text("only blanks", "   \n\t");
        yield return new PeerCase("two frames", [Utf8("""{"name": "x","""), Utf8(""" "engine": "simulated"}""")]);
        yield return new PeerCase("three frames", [Utf8("{}"), Utf8("{}"), Utf8("{}")]);
        yield return new PeerCase("an empty frame before the image", [[], Utf8("""{"id": "a", "name": "x", "engine": "simulated"}""")]);

        yield return new PeerCase("not UTF-8: 0xFF inside", [[0x7b, 0xff, 0x7d]]);
        yield return new PeerCase("not UTF-8: an overlong slash", [[.. Utf8("{\"name\": \""), 0xc0, 0xaf, .. Utf8("\", \"engine\": \"simulated\", \"id\": \"a\"}")]]);
        yield return new PeerCase("not UTF-8: an encoded surrogate", [[.. Utf8("{\"name\": \""), 0xed, 0xa0, 0x80, .. Utf8("\", \"engine\": \"simulated\", \"id\": \"a\"}")]]);
        yield return new PeerCase("not UTF-8: Latin-1", [Encoding.Latin1.GetBytes("{\"name\": \"caf\u00e9\", \"engine\": \"simulated\", \"id\": \"a\"}")]);
        yield return new PeerCase("not UTF-8: UTF-16", [Encoding.Unicode.GetBytes("{\"name\": \"x\", \"engine\": \"simulated\", \"id\": \"a\"}")]);

        foreach (var depth in new[] { 70, 10_000 })
            yield return Text($"nested {depth} deep", "{\"id\": \"a\", \"name\": \"x\", \"engine\": \"simulated\", \"parameters\": {\"p\": " + new string('[', depth) + new string(']', depth) + "}}");
        yield return Text("2 MB with a wrong name", "{\"id\": \"a\", \"name\": 5, \"engine\": \"simulated\", \"pad\": \"" + new string('x', 2 << 20) + "\"}");
        yield return Text("2 MB of brackets", new string('[', 2 << 20));
        yield return Text("8 MB of blanks and a brace", new string(' ', 8 << 20) + "{");
    }

    /// <summary>
    /// Events the listener must drop. Each names capabilities no other case names (<c>ev-N</c>), so a case that leaks
    /// into the store shows which one it was.
    /// </summary>
    public static IEnumerable<PeerCase> Events()
    {
        var n = 0;
        string List(string type = "\"hardware\"") => $$"""[{"capability": "ev-{{++n}}", "capability_type": {{type}}}]""";
        PeerCase Event(string name, string text) => new(name, [Utf8(text)]);

        yield return Event("no '#'", "add_capability" + List());
        yield return Event("only text", "hello");
        yield return Event("only '#'", "#");
        yield return Event("no command", "#" + List());
        yield return Event("an unknown command", "add_capabilities#" + List());
        yield return Event("the command in capitals", "ADD_CAPABILITY#" + List());
        yield return Event("a blank before the command", " add_capability#" + List());
        yield return Event("a blank before '#'", "add_capability #" + List());
        yield return Event("a command that only starts right", "remove_capability_all#" + List());
        yield return Event("truncated JSON", "add_capability#[{\"capability\": \"ev-" + ++n + "\", ");
        yield return Event("no list", "add_capability#");
        yield return Event("an empty list", "add_capability#[]");
        yield return Event("an object instead of a list", "add_capability#" + List()[1..^1]);
        yield return Event("an item without its type", "add_capability#[{\"capability\": \"ev-" + ++n + "\"}]");
        yield return Event("a number as the capability", "add_capability#[{\"capability\": 5, \"capability_type\": \"hardware\"}]");
        yield return Event("an extra property", "add_capability#[{\"capability\": \"ev-" + ++n + "\", \"capability_type\": \"hardware\", \"x\": 1}]");
        yield return Event("an empty capability type", "add_capability#" + List("\"\""));
        yield return Event("a plugin capability added", "add_capability#[{\"capability\": \"docker\", \"capability_type\": \"plugin\"}]");
        yield return Event("the node's own plugin capability removed", "remove_capability#[{\"capability\": \"simulated\", \"capability_type\": \"plugin\"}]");
        yield return Event("a valid item with a plugin one", "add_capability#[{\"capability\": \"ev-" + ++n + "\", \"capability_type\": \"hardware\"}, {\"capability\": \"warp\", \"capability_type\": \"plugin\"}]");
        yield return Event("a valid item with a bad one", "add_capability#[{\"capability\": \"ev-" + ++n + "\", \"capability_type\": \"hardware\"}, 5]");
        yield return Event("a removal of our capability with a bad item", "remove_capability#[{\"capability\": \"corpus-gpu\", \"capability_type\": \"hardware\"}, {}]");
        yield return Event("lists nested 20 deep", "add_capability#" + new string('[', 20) + new string(']', 20));
        yield return Event("lists nested 10,000 deep", "add_capability#" + new string('[', 10_000) + new string(']', 10_000));
        yield return Event("a capability of 300 characters", "add_capability#" + List().Replace("ev-", "ev-" + new string('x', 300)));
        yield return Event("1 MB of capability", "add_capability#[{\"capability\": \"ev-" + ++n + new string('x', 1 << 20) + "\", \"capability_type\": \"hardware\"}]");
        yield return Event("an escaped newline in a capability", "add_capability#[{\"capability\": \"ev-" + ++n + "\\n[ERR] forged\", \"capability_type\": \"hardware\"}]");
        yield return Event("a raw control character in a string", "add_capability#[{\"capability\": \"ev-\u0001" + ++n + "\", \"capability_type\": \"hardware\"}]");
        yield return new PeerCase("an empty frame", [[]]);
        yield return new PeerCase("the command and the list in two frames", [Utf8("add_capability#"), Utf8(List())]);
        yield return new PeerCase("bytes that are not UTF-8", [[.. Utf8("add_capability#[{\"capability\": \"ev-" + ++n), 0xff, 0xfe, .. Utf8("\", \"capability_type\": \"hardware\"}]")]]);
        yield return new PeerCase("Latin-1 text", [Encoding.Latin1.GetBytes("add_capability#[{\"capability\": \"ev-" + ++n + "-caf\u00e9\", \"capability_type\": \"hardware\"}]")]);
    }

    /// <summary>An event whose JSON is well formed but whose string is not text: a lone surrogate, escaped.</summary>
    public static PeerCase LoneSurrogateEvent { get; } =
        new("an escaped lone surrogate", [Utf8("""add_capability#[{"capability": "ev-surrogate\ud800", "capability_type": "hardware"}]""")]);
}
