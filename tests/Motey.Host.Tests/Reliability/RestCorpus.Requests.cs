using System.Net;
using System.Text;

namespace Motey.Host.Tests.Reliability;

/// <summary>Bad headers, oversized bodies, bad service selectors and requests for things that do not exist.</summary>
internal static partial class RestCorpus
{
    /// <summary>The corpus node's [WEBSERVER] max_body_bytes: small, so oversized bodies are cheap to send.</summary>
    public const int MaxBodyBytes = 65_536;

    private static readonly string[] NotYaml =
    [
        "application/json", "text/plain", "application/octet-stream", "multipart/form-data; boundary=corpus",
        "application/x-www-form-urlencoded", "application/x-yaml; charset=latin1", "application/x-yaml; charset=utf-16",
        "text/yaml; charset=\"iso-8859-1\"", "application/yaml; charset=us-ascii", "application/x-yaml; charset=",
        "garbage", ";;;", "application/", "/x-yaml", "x-yaml", "*/*", "application/*", "application/x-yaml, application/json",
        "application/x-yaml application/json", "application/x-yamlx", "application/x-yaml+json", "text/x-yaml-ish",
        "application/" + new string('y', 4000), "application/x-yaml; charset=utf-8; charset=latin1",
    ];

    private static readonly string[] NotJson =
    [
        "application/x-yaml", "text/json", "text/plain", "application/json-patch+json", "application/json; charset=latin1",
        "application/json; charset=utf-16", "garbage", "*/*", "application/json, text/plain", "application/", "json",
    ];

    public static IEnumerable<RestCase> Headers()
    {
        const string Fragment = "content type";
        var blueprint = Encoding.UTF8.GetBytes(Blueprint());
        yield return new RestCase("POST service without Content-Type", HttpMethod.Post, "/v1/service", blueprint, null, HttpStatusCode.UnsupportedMediaType, Fragment);
        yield return new RestCase("POST service with an empty Content-Type", HttpMethod.Post, "/v1/service", blueprint, "", HttpStatusCode.UnsupportedMediaType, Fragment);
        foreach (var type in NotYaml)
            yield return new RestCase($"POST service as '{Short(type)}'", HttpMethod.Post, "/v1/service", blueprint, type, HttpStatusCode.UnsupportedMediaType, Fragment);

        var list = Encoding.UTF8.GetBytes(ValidList);
        yield return new RestCase("PUT capabilities without Content-Type", HttpMethod.Put, "/v1/capabilities", list, null, HttpStatusCode.UnsupportedMediaType, Fragment);
        yield return new RestCase("DELETE capabilities without Content-Type", HttpMethod.Delete, "/v1/capabilities", list, null, HttpStatusCode.UnsupportedMediaType, Fragment);
        foreach (var type in NotJson)
        {
            yield return new RestCase($"PUT capabilities as '{type}'", HttpMethod.Put, "/v1/capabilities", list, type, HttpStatusCode.UnsupportedMediaType, Fragment);
            yield return new RestCase($"DELETE capabilities as '{type}'", HttpMethod.Delete, "/v1/capabilities", list, type, HttpStatusCode.UnsupportedMediaType, Fragment);
        }

        var selector = Encoding.UTF8.GetBytes("service_name: corpus\n");
        yield return new RestCase("DELETE service without Content-Type", HttpMethod.Delete, "/v1/service", selector, null, HttpStatusCode.UnsupportedMediaType, Fragment);
        foreach (var type in new[] { "application/json", "text/plain", "application/x-yaml; charset=latin1", "garbage" })
            yield return new RestCase($"DELETE service as '{type}'", HttpMethod.Delete, "/v1/service", selector, type, HttpStatusCode.UnsupportedMediaType, Fragment);
    }

    public static IEnumerable<RestCase> Oversized()
    {
        const string Fragment = "max_body_bytes";
        static byte[] Padded(string text, int size) => Encoding.UTF8.GetBytes(text + "#" + new string('x', size - Encoding.UTF8.GetByteCount(text) - 2) + "\n");
        static byte[] PaddedJson(int size) => Encoding.UTF8.GetBytes($$"""[{"capability": "{{new string('c', size - 50)}}", "capability_type": "hardware"}]""");
        RestCase Case(string name, HttpMethod method, string path, byte[] body, string type, bool chunked = false, bool expectContinue = false) =>
            new(name, method, path, body, type, HttpStatusCode.RequestEntityTooLarge, Fragment, chunked, expectContinue);

        yield return Case("POST service one byte over the limit", HttpMethod.Post, "/v1/service", Padded(Blueprint(), MaxBodyBytes + 1), RestCase.Yaml);
        yield return Case("POST service of 1 MB", HttpMethod.Post, "/v1/service", Padded(Blueprint(), 1 << 20), RestCase.Yaml);
        yield return Case("POST service of 4 MB, asking to continue first", HttpMethod.Post, "/v1/service", Padded(Blueprint(), 4 << 20), RestCase.Yaml, expectContinue: true);
        yield return Case("POST service of 100 kB, asking to continue first", HttpMethod.Post, "/v1/service", Padded(Blueprint(), 100_000), RestCase.Yaml, expectContinue: true);
        yield return Case("POST service chunked, one byte over the limit", HttpMethod.Post, "/v1/service", Padded(Blueprint(), MaxBodyBytes + 1), RestCase.Yaml, chunked: true);
        yield return Case("POST service chunked, 1 MB", HttpMethod.Post, "/v1/service", Padded(Blueprint(), 1 << 20), RestCase.Yaml, chunked: true);
        yield return Case("POST service chunked, 1 MB, asking to continue first", HttpMethod.Post, "/v1/service", Padded(Blueprint(), 1 << 20), RestCase.Yaml, chunked: true, expectContinue: true);
        yield return Case("PUT capabilities one byte over the limit", HttpMethod.Put, "/v1/capabilities", PaddedJson(MaxBodyBytes + 1), RestCase.Json);
        yield return Case("PUT capabilities chunked, 200 kB", HttpMethod.Put, "/v1/capabilities", PaddedJson(200_000), RestCase.Json, chunked: true);
        yield return Case("DELETE capabilities of 100 kB", HttpMethod.Delete, "/v1/capabilities", PaddedJson(100_000), RestCase.Json);
        yield return Case("DELETE service of 100 kB", HttpMethod.Delete, "/v1/service", Padded("service_name: corpus\n", 100_000), RestCase.Yaml);
        yield return Case("DELETE service chunked, 100 kB", HttpMethod.Delete, "/v1/service", Padded("service_name: corpus\n", 100_000), RestCase.Yaml, chunked: true);
    }

    /// <summary>Bodies of <c>DELETE /v1/service</c> that do not name a service properly.</summary>
    public static IEnumerable<RestCase> Selectors()
    {
        RestCase Case(string name, string yaml, string fragment) => RestCase.DeleteYaml("selector " + name, yaml, fragment);
        yield return Case("empty", "", "empty");
        yield return Case("only blanks", "  \n\n", "empty");
        yield return Case("null", "~\n", "expected a mapping");
        yield return Case("a list", "[a, b]\n", "expected a mapping");
        yield return Case("a string", "corpus\n", "expected a mapping");
        yield return Case("an empty mapping", "{}\n", "id or service_name");
        yield return Case("images only", "images: []\n", "id or service_name");
        yield return Case("id as a list", "id: [a]\n", "id");
        yield return Case("id as a mapping", "id: {a: 1}\n", "id");
        yield return Case("id as null", "id: ~\n", "id");
        yield return Case("id as a boolean", "id: true\n", "id");
        yield return Case("id empty", "id: ''\n", "id");
        yield return Case("service_name as a list", "service_name: []\n", "service_name");
        yield return Case("service_name empty", "service_name: ''\n", "service_name");
        yield return Case("service_name as a number", "service_name: 5\n", "service_name");
        yield return Case("service_name of 257 characters", $"service_name: {new string('s', 257)}\n", "at most 256");
        yield return Case("misspelt key", "service_name: corpus\nservice_nmae: red\n", "did you mean 'service_name'?");
        yield return Case("duplicate id", "id: a\nid: b\n", "duplicate key 'id'");
        yield return Case("unclosed flow", "{id: abc\n", "line");
        yield return Case("two documents", "id: a\n---\nid: b\n", "more than one YAML document");
        yield return Case("with a python tag", "service_name: !!python/object/apply:os.system [\"id\"]\n", "python");
        yield return Case("with an alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nservice_name: corpus\n", "10000 nodes");
        yield return Case("nested 100 deep", "service_name: corpus\nimages: " + new string('[', 100) + new string(']', 100) + "\n", "64 levels");
        yield return Case("with a raw NUL", "service_name: corp\0us\n", "not allowed in YAML");
        yield return Case("with an escaped lone surrogate", "service_name: \"corp\\ud800us\"\n", "surrogate");
        yield return new RestCase("selector with bytes that are not UTF-8", HttpMethod.Delete, "/v1/service",
            [.. Encoding.UTF8.GetBytes("service_name: corp"), 0xff, .. Encoding.UTF8.GetBytes("us\n")], RestCase.Yaml, HttpStatusCode.BadRequest, "UTF-8");

        // Well-formed, but naming nothing: 404 with the name, and certainly no query built from the text.
        yield return RestCase.DeleteYaml("selector with SQL in service_name", "service_name: \"x' OR '1'='1\"\n", "no service named", HttpStatusCode.NotFound);
        yield return RestCase.DeleteYaml("selector with SQL in id", "id: \"' OR 1=1 --\"\n", "no service with id", HttpStatusCode.NotFound);
        yield return RestCase.DeleteYaml("selector with a wildcard name", "service_name: '%'\n", "no service named", HttpStatusCode.NotFound);
        yield return RestCase.DeleteYaml("selector with a wildcard id", "id: '*'\n", "no service with id", HttpStatusCode.NotFound);
    }

    /// <summary>Ids that name nothing and methods a resource does not have.</summary>
    public static IEnumerable<RestCase> Paths()
    {
        RestCase Case(string name, HttpMethod method, string path, HttpStatusCode status, string fragment = "") =>
            new(name, method, path, null, null, status, fragment);
        yield return Case("GET an unknown service id", HttpMethod.Get, "/v1/service/nope", HttpStatusCode.NotFound, "no service with id 'nope'");
        yield return Case("DELETE an unknown service id", HttpMethod.Delete, "/v1/service/nope", HttpStatusCode.NotFound, "no service with id 'nope'");
        yield return Case("GET a service id of 3000 characters", HttpMethod.Get, "/v1/service/" + new string('a', 3000), HttpStatusCode.NotFound, "no service with id");
        yield return Case("DELETE a service id with SQL", HttpMethod.Delete, "/v1/service/" + Uri.EscapeDataString("' OR 1=1 --"), HttpStatusCode.NotFound, "no service with id");
        yield return Case("GET a service id with a wildcard", HttpMethod.Get, "/v1/service/%25", HttpStatusCode.NotFound, "no service with id");
        yield return Case("PUT on services", HttpMethod.Put, "/v1/service", HttpStatusCode.MethodNotAllowed);
        yield return Case("POST on capabilities", HttpMethod.Post, "/v1/capabilities", HttpStatusCode.MethodNotAllowed);
        yield return Case("DELETE on nodes", HttpMethod.Delete, "/v1/nodes", HttpStatusCode.MethodNotAllowed);
        yield return Case("POST on heartbeat", HttpMethod.Post, "/v1/heartbeat", HttpStatusCode.MethodNotAllowed);
    }

    public static IEnumerable<RestCase> All() =>
        Blueprints().Concat(Capabilities()).Concat(Headers()).Concat(Oversized()).Concat(Selectors()).Concat(Paths());

    private static string Short(string text) => text.Length <= 60 ? text : text[..40] + $"... ({text.Length} characters)";
}
