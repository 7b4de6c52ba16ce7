using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>Throws on activation, as a plugin whose engine is missing would.</summary>
public sealed class ThrowingVal : TestValBase
{
    public override string PluginType => "throwing";

    public override Task ActivateAsync(ValContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("engine socket /nonexistent is not reachable");
}
