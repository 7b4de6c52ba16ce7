using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Parsing;

/// <summary>
/// Reads a capability list, <c>[{"capability": "gpu", "capability_type": "hardware"}, ...]</c>, as
/// <c>PUT</c>/<c>DELETE /v1/capabilities</c> and the capability events carry it. Errors name JSON paths.
/// </summary>
public static class CapabilityListParser
{
    /// <summary>Longest name or type accepted.</summary>
    public const int MaxLength = 256;

    // A capability list is two levels deep; anything much deeper is not one.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16 };

    /// <summary>
    /// The capabilities in <paramref name="json"/>, or every error in it. A capability listed twice is not an
    /// error (it is simply the same capability) and appears once in the result, so callers count real changes.
    /// Never throws on bad input.
    /// </summary>
    public static ParseResult<IReadOnlyList<Capability>> Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
            return ParseResult<IReadOnlyList<Capability>>.Failure("$", "the body is empty; expected a JSON list of capabilities");
        if (ForbiddenCharacters.FindUnpairedSurrogate(json) is { } bad)
            return ParseResult<IReadOnlyList<Capability>>.Failure([bad]);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException ex)
        {
            return ParseResult<IReadOnlyList<Capability>>.Failure([JsonSyntax.Error(json, ex)]);
        }
        using (document)
        {
            var errors = new List<InputError>();
            var capabilities = Read(document.RootElement, errors);
            return errors.Count == 0
                ? ParseResult<IReadOnlyList<Capability>>.Success(capabilities)
                : ParseResult<IReadOnlyList<Capability>>.Failure(errors);
        }
    }

    private static List<Capability> Read(JsonElement root, List<InputError> errors)
    {
        var capabilities = new List<Capability>();
        var seen = new HashSet<Capability>();
        if (root.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new InputError("$", $"expected a list of capabilities, found {Describe(root)}"));
            return capabilities;
        }
        if (root.GetArrayLength() == 0) errors.Add(new InputError("$", "the list is empty; give at least one capability"));

        var index = 0;
        foreach (var item in root.EnumerateArray())
        {
            if (CapabilityItem.Read(item, InputPath.Index("$", index++), errors) is { } capability && seen.Add(capability))
                capabilities.Add(capability);
        }
        return capabilities;
    }

    /// <summary>What a JSON value is, in JSON's own words.</summary>
    internal static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
