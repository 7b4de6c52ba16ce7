using System.Text.Json;
using System.Text.Json.Nodes;

namespace Motey.Host.Parsing;

/// <summary>
/// Reads the YAML body of <c>DELETE /v1/service</c>: a mapping with <c>id</c> and/or <c>service_name</c>.
/// The original took the whole blueprint here, so a blueprint's other keys are accepted and ignored; so are
/// the other fields of a service as <c>GET /v1/service</c> returns it, so a listed service can be sent back as is, and
/// any other key a blueprint may carry at its top (<see cref="BlueprintParser"/>); a typo of a key read here is an error.
/// </summary>
public static class ServiceSelectorParser
{
    private static readonly string[] Keys = ["id", "service_name", "node_type", "images", "state", "state_message"];

    /// <summary>The selector in <paramref name="yaml"/>, or every error in it. Never throws on bad input.</summary>
    public static ParseResult<ServiceSelector> Parse(string yaml)
    {
        var read = SafeYamlReader.Read(yaml);
        if (!read.Ok) return ParseResult<ServiceSelector>.Failure(read.Errors);
        if (read.Value.IsEmpty)
            return ParseResult<ServiceSelector>.Failure(InputPath.YamlRoot, "the body is empty; name the service with id or service_name");

        var check = new YamlSchemaCheck(read.Value);
        if (read.Value.Root is not JsonObject map)
        {
            check.Report("", $"expected a mapping with id or service_name, found {YamlSchemaCheck.Describe(read.Value.Root)}", read.Value.PositionOf(read.Value.Root));
            return ParseResult<ServiceSelector>.Failure(check.Errors);
        }
        check.IgnoreUnknownKeys(map, "", Keys, []);
        var id = map.ContainsKey("id") ? Id(check, map) : null;
        var serviceName = map.ContainsKey("service_name")
            ? check.Text(map, "service_name", "service_name", BlueprintParser.MaxServiceNameLength)
            : null;
        if (!map.ContainsKey("id") && !map.ContainsKey("service_name"))
            check.Report("", "name the service with id or service_name", read.Value.PositionOf(map));
        return check.Errors.Count == 0
            ? ParseResult<ServiceSelector>.Success(new ServiceSelector(id, serviceName))
            : ParseResult<ServiceSelector>.Failure(check.Errors);
    }

    /// <summary>
    /// Ids are hex, and a hex id can look like a number to YAML (<c>0123</c>, <c>12e45</c>); such an id is
    /// taken as written rather than refused or turned into a different number.
    /// </summary>
    private static string? Id(YamlSchemaCheck check, JsonObject map)
    {
        if (map["id"] is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && check.Tree.PlainTextOf(value) is { } written)
            return written;
        return check.Text(map, "id", "id");
    }
}
