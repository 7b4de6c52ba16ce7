using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>Never finishes activating and ignores cancellation: the worst a plugin can do.</summary>
public sealed class HangingVal : TestValBase
{
    public override string PluginType => "hanging";

    public override Task ActivateAsync(ValContext context, CancellationToken cancellationToken) =>
        new TaskCompletionSource().Task;
}
