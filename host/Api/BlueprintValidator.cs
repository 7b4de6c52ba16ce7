using Motey.Abstractions;
using Motey.Host.Core.Model;
using Motey.Host.Core.Nodes;
using Motey.Host.Core.Orchestration;
using Motey.Host.Parsing;

namespace Motey.Host.Api;

/// <summary>
/// What a well-formed blueprint must also satisfy before it is accepted, per the rule "refused only when nothing could
/// ever run it": a restart policy every node reads the same, and, for an engine whose VAL is active on this node, the
/// parameters as the engine's syntax (<see cref="IValPlugin.ValidateParameters"/>), which every node with that plugin
/// reads the same. An engine this node has no plugin for is accepted: the image waits for, or is placed on, a node that
/// has it. A node's policy (<see cref="IValPlugin.ValidateImage"/>) is checked by the node that runs the image, before
/// it deploys; a refusal there becomes the image's state message.
/// </summary>
internal sealed class BlueprintValidator(IEngines engines)
{
    public IReadOnlyList<InputError> Validate(Blueprint blueprint)
    {
        var errors = new List<InputError>();
        for (var i = 0; i < blueprint.Images.Count; i++)
        {
            var image = blueprint.Images[i];
            if (image.Parameters.TryGetValue(RestartPolicies.Key, out var policy) && !RestartPolicies.TryParse(policy, out _, out var problem))
                errors.Add(new InputError($"images[{i}].parameters.{RestartPolicies.Key}", problem!));
            // No active VAL here (none loaded, or its plugin failed): the node that runs the image checks its parameters.
            if (engines.Find(image.Engine) is not { } val) continue;
            try
            {
                errors.AddRange(val.ValidateParameters(RestartPolicies.ForVal(image.Parameters)).Select(message => Locate(i, message)));
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
