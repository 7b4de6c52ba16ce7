using Motey.Host.Core.Model;
using Motey.Host.Core.Orchestration;
using Motey.Host.Parsing;
using Motey.Host.Plugins;

namespace Motey.Host.Api;

/// <summary>
/// What a well-formed blueprint must also satisfy on this node: every engine is one a loaded plugin
/// provides, and each image (its name and parameters) is accepted by that engine's VAL, policy included.
/// </summary>
internal sealed class BlueprintValidator(PluginCatalog catalog)
{
    public IReadOnlyList<InputError> Validate(Blueprint blueprint)
    {
        var errors = new List<InputError>();
        var known = catalog.KnownEngines;
        for (var i = 0; i < blueprint.Images.Count; i++)
        {
            var image = blueprint.Images[i];
            if (!known.Contains(image.Engine))
            {
                var list = known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal));
                errors.Add(new InputError($"images[{i}].engine", $"unknown engine '{image.Engine}' (engines known here: {list})"));
                continue;
            }
            if (image.Parameters.TryGetValue(RestartPolicies.Key, out var policy) && !RestartPolicies.TryParse(policy, out _, out var problem))
                errors.Add(new InputError($"images[{i}].parameters.{RestartPolicies.Key}", problem!));
            // A VAL that is not active cannot check its parameters; placement will report the missing engine.
            var val = catalog.Find(image.Engine);
            if (val is null) continue;
            try
            {
                errors.AddRange(val.ValidateImage(image.Name, RestartPolicies.ForVal(image.Parameters)).Select(message => Locate(i, message)));
            }
            catch (Exception e)
            {
                errors.Add(new InputError($"images[{i}].parameters", $"the {image.Engine} plugin could not check them: {e.Message}"));
            }
        }
        return errors;
    }

    /// <summary>"parameters.args: expected a list" from a VAL becomes where "images[0].parameters.args"; "name: ..." "images[0].name".</summary>
    private static InputError Locate(int index, string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && (message.StartsWith("parameters", StringComparison.Ordinal) || message.StartsWith("name: ", StringComparison.Ordinal))
            ? new InputError($"images[{index}].{message[..colon]}", message[(colon + 2)..])
            : new InputError($"images[{index}].parameters", message);
    }
}
