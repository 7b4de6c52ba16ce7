using System.Net;
using System.Text;

namespace Motey.Host.Tests.Reliability;

/// <summary>Bad capability lists, each sent to both <c>PUT</c> and <c>DELETE /v1/capabilities</c>: refused with 400 naming the JSON path or position.</summary>
internal static partial class RestCorpus
{
    private const string ValidList = """[{"capability": "corpus-new", "capability_type": "hardware"}]""";

    private static string Item(string capability, string type) => $$"""[{"capability": {{capability}}, "capability_type": {{type}}}]""";

    private static IEnumerable<(string Name, byte[] Body, string Fragment)> CapabilityBodies()
    {
        (string, byte[], string) Text(string name, string json, string fragment) => (name, Encoding.UTF8.GetBytes(json), fragment);

        // Every proper prefix of a list is unclosed: a syntax error with a line and column (the empty one says it is empty).
        for (var end = 0; end < ValidList.Length - 1; end += 4)
            yield return Text($"list truncated to {end} characters", ValidList[..end], end == 0 ? "empty" : "line");

        (string Kind, string Json)[] notAString =
        [
            ("a number", "5"), ("true", "true"), ("null", "null"), ("a list", "[\"gpu\"]"), ("an object", "{\"a\": 1}"),
            ("empty", "\"\""), ("blank", "\"   \""), ("257 characters", $"\"{new string('c', 257)}\""),
        ];
        foreach (var (kind, json) in notAString)
        {
            yield return Text($"capability is {kind}", Item(json, "\"hardware\""), "$[0].capability");
            yield return Text($"capability_type is {kind}", Item("\"corpus-new\"", json), "$[0].capability_type");
        }
        foreach (var (kind, json) in new[] { ("an object", ValidList[1..^1]), ("a string", "\"gpu\""), ("a number", "5"), ("null", "null"), ("true", "true"), ("an empty list", "[]") })
            yield return Text($"root is {kind}", json, "$");
        foreach (var (kind, json) in new[] { ("a number", "[5]"), ("a string", "[\"gpu\"]"), ("null", "[null]"), ("a list", "[[]]"), ("true", "[true]") })
            yield return Text($"item is {kind}", json, "$[0]");
        yield return Text("item without properties", "[{}]", "required property 'capability'");
        yield return Text("item without capability_type", """[{"capability": "corpus-new"}]""", "capability_type");
        yield return Text("item without capability", """[{"capability_type": "hardware"}]""", "$[0].capability");
        yield return Text("item with an extra property", """[{"capability": "corpus-new", "capability_type": "hardware", "z": 1}]""", "$[0].z");
        yield return Text("item with a property twice", """[{"capability": "corpus-new", "capability": "corpus-other", "capability_type": "hardware"}]""", "given twice");
        yield return Text("valid item then a bad one", """[{"capability": "corpus-new", "capability_type": "hardware"}, 5]""", "$[1]");
        yield return Text("plugin capability", """[{"capability": "simulated", "capability_type": "plugin"}]""", "managed by the plugin catalog");
        yield return Text("valid item then a plugin one", """[{"capability": "corpus-new", "capability_type": "hardware"}, {"capability": "warp", "capability_type": "plugin"}]""", "$[1].capability_type");
        foreach (var depth in new[] { 17, 100, 1000, 20_000 })
            yield return Text($"lists nested {depth} deep", new string('[', depth) + new string(']', depth), "depth");
        yield return Text("a capability nested 50 deep", Item(new string('[', 50) + new string(']', 50), "\"hardware\""), "depth");
        yield return Text("a capability of 10,000 characters", Item($"\"{new string('c', 10_000)}\"", "\"hardware\""), "at most 256");
        yield return Text("a capability_type of 60,000 characters", Item("\"corpus-new\"", $"\"{new string('t', 60_000)}\""), "at most 256");
        yield return Text("ten thousand bad items", "[" + string.Join(",", Enumerable.Repeat("5", 10_000)) + "]", "$[0]");
        yield return Text("a comment", "[/* hi */" + ValidList[1..], "line");
        yield return Text("a trailing comma", ValidList[..^1] + ",]", "line");
        yield return Text("single quotes", "[{'capability': 'corpus-new', 'capability_type': 'hardware'}]", "line");
        yield return Text("unquoted names", "[{capability: \"corpus-new\", capability_type: \"hardware\"}]", "line");
        yield return Text("NaN", Item("NaN", "\"hardware\""), "line");
        yield return Text("text after the list", ValidList + " extra", "line");
        yield return Text("two lists", ValidList + ValidList, "line");
        yield return Text("a raw NUL in a string", Item("\"corpus\0new\"", "\"hardware\""), "line");
        yield return Text("a raw control character in a string", Item("\"corpus\u001fnew\"", "\"hardware\""), "line");
        yield return Text("an escaped NUL in the capability", Item("\"gpu\\u0000x\"", "\"hardware\""), "$[0].capability");
        yield return Text("an escaped newline in the capability", Item("\"gpu\\n[ERR] forged\"", "\"hardware\""), "$[0].capability");
        yield return Text("an escaped escape in the capability type", Item("\"corpus-new\"", "\"hard\\u001b[31mware\""), "$[0].capability_type");
        yield return Text("an escaped C1 control in the capability", Item("\"gpu\\u009b\"", "\"hardware\""), "$[0].capability");
        yield return Text("an escaped lone surrogate", Item("\"corpus\\ud800\"", "\"hardware\""), "$[0].capability");
        yield return Text("YAML instead of JSON", "- capability: corpus-new\n  capability_type: hardware\n", "line");
        yield return ("bytes that are not UTF-8", [.. Encoding.UTF8.GetBytes("[{\"capability\": \"corpus"), 0xff, 0xfe, .. Encoding.UTF8.GetBytes("\", \"capability_type\": \"hardware\"}]")], "UTF-8");
        yield return ("Latin-1 text", Encoding.Latin1.GetBytes(Item("\"caf\u00e9\"", "\"hardware\"")), "UTF-8");
        yield return ("UTF-16 text", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(ValidList)], "UTF-8");
    }

    public static IEnumerable<RestCase> Capabilities()
    {
        foreach (var (name, body, fragment) in CapabilityBodies())
        {
            yield return new RestCase($"PUT capabilities: {name}", HttpMethod.Put, "/v1/capabilities", body, RestCase.Json, HttpStatusCode.BadRequest, fragment);
            yield return new RestCase($"DELETE capabilities: {name}", HttpMethod.Delete, "/v1/capabilities", body, RestCase.Json, HttpStatusCode.BadRequest, fragment);
        }
    }
}
