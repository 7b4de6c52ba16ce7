using System.Text.Json;
using Motey.Abstractions;
using Motey.Host.Core.Model;

namespace Motey.Host.Parsing;

/// <summary>Reads one entry of a capability list: an object with exactly <c>capability</c> and <c>capability_type</c>.</summary>
internal static class CapabilityItem
{
    private const string NameKey = "capability";
    private const string TypeKey = "capability_type";

    public static Capability? Read(JsonElement item, string path, List<InputError> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new InputError(path, $"expected an object with {NameKey} and {TypeKey}, found {CapabilityListParser.Describe(item)}"));
            return null;
        }
        string? name = null, type = null;
        bool hasName = false, hasType = false, valid = true;
        foreach (var property in item.EnumerateObject())
        {
            var propertyPath = InputPath.Member(path, property.Name);
            // JSON allows a name twice and readers disagree on which wins; refuse rather than guess.
            if ((property.Name == NameKey && hasName) || (property.Name == TypeKey && hasType))
            {
                errors.Add(new InputError(propertyPath, $"property '{property.Name}' is given twice"));
                valid = false;
            }
            else if (property.Name == NameKey)
            {
                hasName = true;
                name = Text(property.Value, propertyPath, errors);
            }
            else if (property.Name == TypeKey)
            {
                hasType = true;
                type = Text(property.Value, propertyPath, errors);
            }
            else
            {
                errors.Add(new InputError(propertyPath, $"unknown property {YamlSchemaCheck.Quote(property.Name)}; expected {NameKey} and {TypeKey} only"));
                valid = false;
            }
        }
        if (!hasName) errors.Add(new InputError(InputPath.Member(path, NameKey), $"required property '{NameKey}' is missing"));
        if (!hasType) errors.Add(new InputError(InputPath.Member(path, TypeKey), $"required property '{TypeKey}' is missing"));
        return valid && name is not null && type is not null ? new Capability(name, type) : null;
    }

    private static string? Text(JsonElement value, string path, List<InputError> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new InputError(path, $"expected a string, found {CapabilityListParser.Describe(value)}"));
            return null;
        }
        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") is valid JSON syntax but no text.
            errors.Add(new InputError(path, "is not valid Unicode text (a lone surrogate escape)"));
            return null;
        }
        if (InputText.ControlCharacter(text) is { } bad) errors.Add(new InputError(path, $"contains control character {bad}"));
        else if (string.IsNullOrWhiteSpace(text)) errors.Add(new InputError(path, "must not be empty"));
        else if (text.Length > CapabilityListParser.MaxLength)
            errors.Add(new InputError(path, $"is {text.Length} characters long; at most {CapabilityListParser.MaxLength} are allowed"));
        else return text;
        return null;
    }
}
