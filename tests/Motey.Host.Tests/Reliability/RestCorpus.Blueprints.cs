using System.Text;

namespace Motey.Host.Tests.Reliability;

/// <summary>
/// Bad request bodies for <c>POST /v1/service</c>, generated from a valid blueprint by mutations: every slot of the
/// schema given every wrong type, truncations, broken syntax, alias bombs, deep nesting, bad bytes and characters,
/// several documents, foreign tags. Each case is refused with 400 and a detail naming what and where.
/// </summary>
internal static partial class RestCorpus
{
    /// <summary>A blueprint in flow style whose slots can be replaced one at a time; without replacements it is valid.</summary>
    public static string Blueprint(string? slot = null, string? value = null)
    {
        string S(string name, string fallback) => slot == name ? value! : fallback;
        var capabilities = S("images[0].capabilities", $"[{S("images[0].capabilities[0]", "corpus-gpu")}]");
        var image = S("images[0]",
            $"{{name: {S("images[0].name", "web")}, engine: {S("images[0].engine", "simulated")}, "
            + $"parameters: {S("images[0].parameters", "{start_delay_ms: 10}")}, capabilities: {capabilities}}}");
        return $"service_name: {S("service_name", "corpus")}\nnode_type: {S("node_type", "edge")}\nimages: {S("images", $"[{image}]")}\n";
    }

    private static readonly (string Kind, string Yaml)[] NotAString =
    [
        ("a number", "5"), ("a negative number", "-7"), ("a float", "1.5"), ("infinity", ".inf"),
        ("true", "true"), ("false", "false"), ("null as ~", "~"), ("null as a word", "null"),
        ("a list", "[a, b]"), ("an empty list", "[]"), ("a mapping", "{a: 1}"), ("an empty mapping", "{}"),
    ];

    private static readonly (string Kind, string Yaml)[] EmptyText = [("an empty string", "''"), ("a blank string", "'   '")];

    private static readonly (string Kind, string Yaml)[] NotAList =
        [("a number", "5"), ("true", "true"), ("null", "~"), ("a string", "'text'"), ("a mapping", "{a: 1}"), ("an empty mapping", "{}"), ("an empty list", "[]")];

    private static readonly (string Kind, string Yaml)[] NotAMapping =
        [("a number", "5"), ("true", "true"), ("null", "~"), ("a string", "'text'"), ("a list", "[a]"), ("an empty list", "[]")];

    /// <summary>Every slot of the blueprint schema with every value of the wrong type; the error names the slot.</summary>
    private static IEnumerable<RestCase> WrongTypes()
    {
        foreach (var slot in new[] { "service_name", "images[0].name", "images[0].engine", "images[0].capabilities[0]" })
        {
            foreach (var (kind, yaml) in NotAString.Concat(EmptyText))
                yield return RestCase.PostYaml($"blueprint {slot} is {kind}", Blueprint(slot, yaml), slot);
        }
        // node_type is any string, empty included.
        foreach (var (kind, yaml) in NotAString)
            yield return RestCase.PostYaml($"blueprint node_type is {kind}", Blueprint("node_type", yaml), "node_type");
        foreach (var slot in new[] { "images", "images[0].capabilities" })
        {
            foreach (var (kind, yaml) in NotAList)
                yield return RestCase.PostYaml($"blueprint {slot} is {kind}", Blueprint(slot, yaml), slot);
        }
        foreach (var slot in new[] { "images[0]", "images[0].parameters" })
        {
            foreach (var (kind, yaml) in NotAMapping)
                yield return RestCase.PostYaml($"blueprint {slot} is {kind}", Blueprint(slot, yaml), slot);
        }
        foreach (var (kind, yaml) in new[] { ("a number", "5"), ("a list", "[a, b]"), ("a string", "text"), ("true", "true"), ("null", "~"), ("an empty list", "[]"), ("a quoted string", "'quoted'") })
            yield return RestCase.PostYaml($"blueprint root is {kind}", yaml, "(root)");
        foreach (var (kind, yaml) in new[] { ("empty", ""), ("only blanks", "   \n\n  "), ("only a comment", "# nothing here\n") })
            yield return RestCase.PostYaml($"blueprint is {kind}", yaml, "empty");
    }

    /// <summary>Well-formed YAML that breaks a rule of the schema or of the engine's VAL.</summary>
    private static IEnumerable<RestCase> SchemaRules()
    {
        RestCase Case(string name, string yaml, string fragment) => RestCase.PostYaml("blueprint " + name, yaml, fragment);
        yield return Case("engine in capitals", Blueprint("images[0].engine", "Docker"), "images[0].engine");
        yield return Case("engine with a space", Blueprint("images[0].engine", "'my engine'"), "images[0].engine");
        yield return Case("engine as a path", Blueprint("images[0].engine", "../etc/passwd"), "images[0].engine");
        yield return Case("engine of 65 characters", Blueprint("images[0].engine", new string('e', 65)), "images[0].engine");
        yield return Case("service_name of 257 characters", Blueprint("service_name", new string('s', 257)), "at most 256");
        yield return Case("capability of 257 characters", Blueprint("images[0].capabilities[0]", new string('c', 257)), "images[0].capabilities[0]");
        yield return Case("misspelt root key", Blueprint() + "imagse: []\n", "did you mean 'images'?");
        yield return Case("unknown image key", Blueprint("images[0]", "{nmae: web, engine: simulated}"), "images[0].nmae");
        yield return Case("singular capability key", Blueprint("images[0]", "{name: web, engine: simulated, capability: [gpu]}"), "images[0].capability");
        yield return Case("duplicate root key", Blueprint() + "service_name: again\n", "duplicate key 'service_name'");
        yield return Case("duplicate image", Blueprint("images", "[{name: web, engine: simulated}, {name: web, engine: simulated}]"), "images[1]");
        yield return Case("duplicate capability", Blueprint("images[0].capabilities", "[gpu, gpu]"), "images[0].capabilities[1]");
        yield return Case("second image not a mapping", Blueprint("images", "[{name: web, engine: simulated}, 5]"), "images[1]");
        // Extra top-level keys are ignored, as by the original; a typo among thousands of them is still found.
        yield return Case("with 4,000 extra keys and a typo", Blueprint() + string.Concat(Enumerable.Range(0, 4000).Select(i => $"k{i}: 1\n")) + "node_tpye: x\n",
            "unknown key 'node_tpye'; did you mean 'node_type'?");
        yield return Case("merge key", "base: &base {name: web, engine: simulated}\nservice_name: corpus\nimages:\n- <<: *base\n", "merge keys");
        foreach (var (parameter, yaml) in new[]
        {
            ("colour", "{colour: red}"), ("start_delay_ms", "{start_delay_ms: -1}"), ("start_delay_ms", "{start_delay_ms: '10'}"),
            ("start_delay_ms", "{start_delay_ms: 1.5}"), ("start_delay_ms", "{start_delay_ms: 99999999999}"), ("fail", "{fail: 'yes'}"),
            ("fail", "{fail: 1}"), ("restart_policy", "{restart_policy: sometimes}"), ("restart_policy", "{restart_policy: 5}"),
            ("restart_policy", "{restart_policy: [always]}"),
        })
            yield return Case($"simulated parameters {yaml}", Blueprint("images[0].parameters", yaml), $"images[0].parameters.{parameter}");
        foreach (var (parameter, yaml) in new[]
        {
            ("args", "{args: {a: 1}}"), ("env", "{env: [a]}"), ("working_directory", "{working_directory: 5}"),
            ("stop_timeout", "{stop_timeout: -1}"), ("colour", "{colour: red}"),
        })
        {
            var process = $"service_name: corpus\nimages: [{{name: sleep, engine: process, parameters: {yaml}}}]\n";
            yield return Case($"process parameters {yaml}", process, $"images[0].parameters.{parameter}");
        }
    }

    /// <summary>YAML that does not parse: truncations of a valid document, tabs, unclosed flows, bad indentation.</summary>
    private static IEnumerable<RestCase> Syntax()
    {
        // Every proper prefix that ends inside the flow list is unclosed, so each one is a syntax error with a position.
        const string Whole = "service_name: corpus\nimages: [{name: web, engine: simulated, parameters: {start_delay_ms: 10}, capabilities: [corpus-gpu]}]\n";
        var open = Whole.IndexOf('[') + 1;
        for (var end = open; end < Whole.Length - 2; end += 3)
            yield return RestCase.PostYaml($"blueprint truncated to {end} characters", Whole[..end], "line");

        RestCase Case(string name, string yaml) => RestCase.PostYaml("blueprint " + name, yaml, "line");
        yield return Case("indented by a tab", "\tservice_name: corpus\nimages: [{name: web, engine: simulated}]\n");
        yield return Case("list indented by tabs", "service_name: corpus\nimages:\n\t- name: web\n\t  engine: simulated\n");
        yield return Case("image key indented by a tab", "service_name: corpus\nimages:\n- name: web\n\tengine: simulated\n");
        yield return Case("with an unclosed list", "service_name: corpus\nimages: [\n");
        yield return Case("with an unclosed mapping", "service_name: corpus\nimages: [{name: web\n");
        yield return Case("with an unclosed outer list", "service_name: corpus\nimages: [{name: web, engine: simulated}\n");
        yield return Case("with mismatched brackets", "service_name: corpus\nimages: [{name: web, engine: simulated, parameters: {a: [1, 2}}]\n");
        yield return Case("with a stray closing bracket", "service_name: corpus\nimages: ]\n");
        yield return Case("with a brace closing a list", "service_name: corpus\nimages: [}]\n");
        yield return Case("with a trailing bracket", "service_name: corpus\nimages: [a] ]\n");
        yield return Case("with an unclosed single quote", "service_name: 'corpus\nimages: []\n");
        yield return Case("with an unclosed double quote", "service_name: \"corpus\nimages: []\n");
        yield return Case("with a key indented under a scalar", "service_name: corpus\n  images: []\n");
        yield return Case("with an image key indented less", "service_name: corpus\nimages:\n  - name: web\n engine: simulated\n");
        yield return Case("with an image key indented oddly", "service_name: corpus\nimages:\n  - name: web\n    engine: simulated\n   capabilities: [x]\n");
        yield return Case("with two colons on a line", "service_name: a: b\nimages: []\n");
        yield return Case("with a list entry after a mapping", "service_name: corpus\nimages: [a]\n- b\n");
        yield return Case("with a mapping after a list", "- a\nservice_name: corpus\n");
        yield return Case("with a reserved indicator", "service_name: @corpus\nimages: []\n");
        yield return Case("with a backtick", "service_name: `corpus`\nimages: []\n");
        yield return Case("with a list as a key", "? [a, b]\n: value\nservice_name: corpus\n");
        yield return Case("with a mapping as a key", "{a: 1}: value\nservice_name: corpus\n");
        yield return Case("with a literal block indented less", "service_name: |\n    corpus\n  more\nimages: []\n");
        yield return Case("with an undefined alias", "service_name: *nowhere\nimages: []\n");
    }

    /// <summary>Aliases that would expand past the node limit, refer to themselves or nest too deep once expanded.</summary>
    private static IEnumerable<RestCase> AliasBombs()
    {
        static string Ten(string item) => "[" + string.Join(", ", Enumerable.Repeat(item, 10)) + "]";
        var laughs = new StringBuilder("lol0: &l0 " + Ten("lol") + "\n");
        for (var i = 1; i < 9; i++) laughs.Append($"lol{i}: &l{i} {Ten($"*l{i - 1}")}\n");
        yield return RestCase.PostYaml("blueprint with a billion laughs", laughs + "service_name: corpus\nimages: [{name: web, engine: simulated}]\n", "10000 nodes");

        var inParameters = "service_name: corpus\nimages: [{name: web, engine: simulated, parameters: {"
            + "a: &a " + Ten("x") + ", b: &b " + Ten("*a") + ", c: &c " + Ten("*b") + ", d: &d " + Ten("*c") + ", e: " + Ten("*d") + "}}]\n";
        yield return RestCase.PostYaml("blueprint with an alias bomb in the parameters", inParameters, "10000 nodes");

        var wide = "wide: &w [" + string.Join(", ", Enumerable.Range(0, 2000).Select(i => $"x{i}")) + "]\n"
            + "service_name: corpus\nimages: [{name: web, engine: simulated, parameters: {p: [*w, *w, *w, *w, *w, *w]}}]\n";
        yield return RestCase.PostYaml("blueprint aliasing a wide list six times", wide, "10000 nodes");

        var asName = "big: &big " + Ten(Ten(Ten("x"))) + "\nservice_name: corpus\nimages: [{name: web, engine: simulated}]\nmore: [*big, *big, *big, *big, *big, *big, *big, *big, *big, *big, *big]\n";
        yield return RestCase.PostYaml("blueprint aliasing a thousand nodes eleven times", asName, "10000 nodes");

        var block = new StringBuilder("l0: &l0\n" + string.Concat(Enumerable.Repeat("  - lol\n", 10)));
        for (var i = 1; i < 6; i++) block.Append($"l{i}: &l{i}\n" + string.Concat(Enumerable.Repeat($"  - *l{i - 1}\n", 10)));
        yield return RestCase.PostYaml("blueprint with block-style laughs", block + "service_name: corpus\n", "10000 nodes");

        yield return RestCase.PostYaml("blueprint with an alias inside its own anchor", "service_name: corpus\nimages: &loop [*loop]\n", "contains it");
        yield return RestCase.PostYaml("blueprint with an alias before its anchor", "service_name: *later\nimages: &later [a]\n", "has no anchor");

        var nested = string.Concat(Enumerable.Repeat("[", 40)) + "x" + string.Concat(Enumerable.Repeat("]", 40));
        var deep = $"deep: &deep {nested}\nservice_name: corpus\nimages: [{{name: web, engine: simulated, parameters: {{p: {string.Concat(Enumerable.Repeat("[", 30))}*deep{string.Concat(Enumerable.Repeat("]", 30))}}}}}]\n";
        yield return RestCase.PostYaml("blueprint whose alias nests too deep once expanded", deep, "64 levels");
    }

    private static IEnumerable<RestCase> DeepNesting()
    {
        foreach (var depth in new[] { 70, 200, 1000, 10_000 })
        {
            var lists = "service_name: corpus\nimages: " + new string('[', depth) + new string(']', depth) + "\n";
            yield return RestCase.PostYaml($"blueprint with lists nested {depth} deep", lists, "64 levels");
        }
        foreach (var depth in new[] { 100, 5000 })
        {
            var maps = "service_name: corpus\nimages: [{name: web, engine: simulated, parameters: "
                + string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth) + "}]\n";
            yield return RestCase.PostYaml($"blueprint with mappings nested {depth} deep", maps, "64 levels");
        }
        var blockMaps = new StringBuilder("service_name: corpus\nparameters:\n");
        for (var i = 1; i <= 100; i++) blockMaps.Append(new string(' ', i)).Append("a:\n");
        yield return RestCase.PostYaml("blueprint with block mappings nested 100 deep", blockMaps.ToString(), "64 levels");
        yield return RestCase.PostYaml("blueprint with block lists nested 100 deep",
            "service_name: corpus\nimages:\n" + string.Concat(Enumerable.Repeat("- ", 100)) + "x\n", "64 levels");
    }

    private static IEnumerable<RestCase> BadBytes()
    {
        (string Kind, byte[] Bytes)[] sequences =
        [
            ("0xFF", [0xff]), ("0xFE 0xFF", [0xfe, 0xff]), ("an overlong slash", [0xc0, 0xaf]), ("a lone continuation byte", [0x80]),
            ("a truncated three-byte sequence", [0xe2, 0x82]), ("an encoded surrogate", [0xed, 0xa0, 0x80]),
            ("a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]), ("a five-byte sequence", [0xf8, 0x88, 0x80, 0x80, 0x80]),
            ("Latin-1 e-acute", [0xe9]),
        ];
        foreach (var (kind, bytes) in sequences)
            yield return RestCase.PostBytes($"blueprint with {kind} in service_name", [.. Encoding.UTF8.GetBytes("service_name: corp"), .. bytes, .. Encoding.UTF8.GetBytes("us\nimages: [{name: web, engine: simulated}]\n")], "UTF-8");
        yield return RestCase.PostBytes("blueprint in UTF-16 with a byte order mark", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(Blueprint())], "UTF-8");
        yield return RestCase.PostBytes("blueprint in UTF-32 with a byte order mark", [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(Blueprint())], "UTF-8");

        (string Kind, string Text)[] controls =
        [
            ("NUL", "\0"), ("SOH", "\u0001"), ("BEL", "\u0007"), ("backspace", "\b"), ("vertical tab", "\v"), ("form feed", "\f"),
            ("escape", "\u001b"), ("DEL", "\u007f"), ("C1 CSI", "\u009b"), ("U+FFFE", "\ufffe"), ("U+FFFF", "\uffff"),
        ];
        foreach (var (kind, text) in controls)
            yield return RestCase.PostYaml($"blueprint with a raw {kind} in service_name", Blueprint("service_name", $"corp{text}us"), "not allowed in YAML");
        yield return RestCase.PostYaml("blueprint starting with NUL", "\0" + Blueprint(), "not allowed in YAML");
        yield return RestCase.PostYaml("blueprint followed by NUL and more", Blueprint() + "\0images: []\n", "not allowed in YAML");
        yield return RestCase.PostYaml("blueprint with a raw NUL in a quoted string", Blueprint("service_name", "'corp\0us'"), "not allowed in YAML");
        // Escapes are YAML, but a name holding a control character is not a name: a newline in one forges log lines.
        foreach (var (kind, escape) in new[] { ("newline", "\\n"), ("NUL", "\\0"), ("escape", "\\e"), ("bell", "\\a"), ("next-line", "\\N") })
            yield return RestCase.PostYaml($"blueprint with an escaped {kind} in service_name", Blueprint("service_name", $"\"corp{escape}us\""), "service_name");
        yield return RestCase.PostYaml("blueprint with an escaped newline in node_type", Blueprint("node_type", "\"edge\\n[ERR] forged\""), "node_type");
        yield return RestCase.PostYaml("blueprint with an escaped newline in an image name", Blueprint("images[0].name", "\"web\\n[ERR] forged\""), "images[0].name");
        yield return RestCase.PostYaml("blueprint with an escaped escape in a capability", Blueprint("images[0].capabilities[0]", "\"gpu\\e[31m\""), "images[0].capabilities[0]");
        // A lone surrogate is not text, escaped or not: no string holding one could be stored or answered as JSON.
        yield return RestCase.PostYaml("blueprint with an escaped lone surrogate in service_name", Blueprint("service_name", "\"corp\\ud800us\""), "surrogate");
        yield return RestCase.PostYaml("blueprint with an escaped lone surrogate in a parameter key", Blueprint("images[0].parameters", "{\"a\\udc00\": 1}"), "surrogate");
        yield return RestCase.PostYaml("blueprint with an escaped lone surrogate in a capability", Blueprint("images[0].capabilities[0]", "\"gpu\\ud800\""), "surrogate");
    }

    private static IEnumerable<RestCase> Documents()
    {
        const string Fragment = "more than one YAML document";
        yield return RestCase.PostYaml("blueprint sent twice as two documents", Blueprint() + "---\n" + Blueprint(), Fragment);
        yield return RestCase.PostYaml("blueprint after an empty document", "---\n---\n" + Blueprint(), Fragment);
        yield return RestCase.PostYaml("blueprint as two hundred documents", string.Concat(Enumerable.Repeat("---\n" + Blueprint(), 200)), Fragment);
        yield return RestCase.PostYaml("blueprint followed by an end marker and garbage", Blueprint() + "...\ngarbage: 1\n", Fragment);
        yield return RestCase.PostYaml("blueprint followed by an empty document", Blueprint() + "---\n", Fragment);
    }

    private static IEnumerable<RestCase> Tags()
    {
        (string Kind, string Yaml, string Fragment)[] tags =
        [
            ("python apply at the root", "!!python/object/apply:os.system [\"touch /tmp/motey-pwned\"]", "python/object/apply"),
            ("python apply as service_name", Blueprint("service_name", "!!python/object/apply:os.system [\"id\"]"), "python"),
            ("python object on the parameters", Blueprint("images[0].parameters", "!!python/object:__main__.Evil {a: 1}"), "python/object"),
            ("python object/new", Blueprint("service_name", "!!python/object/new:subprocess.Popen [[id]]"), "python"),
            ("python name", Blueprint("service_name", "!!python/name:os.system"), "python/name"),
            ("python module", Blueprint("service_name", "!!python/module:os"), "python/module"),
            ("ruby object", Blueprint("service_name", "!ruby/object:Gem::Installer {i: x}"), "ruby/object"),
            ("local tag", Blueprint("service_name", "!custom corpus"), "!custom"),
            ("verbatim tag", Blueprint("service_name", "!<tag:example.com,2000:app/foo> corpus"), "tag:example.com"),
            ("TAG directive", "%TAG !e! tag:example.com,2000:\n---\n" + Blueprint("service_name", "!e!thing corpus"), "tag:example.com,2000:thing"),
            ("binary", Blueprint("service_name", "!!binary aGVsbG8="), "!!binary"),
            ("set", Blueprint("images[0].parameters", "!!set {a, b}"), "!!set"),
            ("omap", Blueprint("images[0].parameters", "!!omap [a: 1]"), "!!omap"),
            ("timestamp", Blueprint("service_name", "!!timestamp 2001-12-14"), "!!timestamp"),
            ("int on text", Blueprint("service_name", "!!int abc"), "not a valid !!int"),
            ("map tag on a list", Blueprint("images", "!!map [a]"), "does not fit"),
            ("seq tag on a mapping", Blueprint("images[0].parameters", "!!seq {a: 1}"), "does not fit"),
            ("js function", Blueprint("service_name", "!!js/function 'function(){}'"), "js/function"),
            ("php object", Blueprint("service_name", "!php/object 'O:8:\"stdClass\":0:{}'"), "php/object"),
        ];
        foreach (var (kind, yaml, fragment) in tags)
            yield return RestCase.PostYaml($"blueprint with a {kind} tag", yaml, fragment);
    }

    public static IEnumerable<RestCase> Blueprints() =>
        WrongTypes().Concat(SchemaRules()).Concat(Syntax()).Concat(AliasBombs()).Concat(DeepNesting())
            .Concat(BadBytes()).Concat(Documents()).Concat(Tags());
}
