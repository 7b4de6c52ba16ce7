using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>An engine that is down while the file <c>engine-down</c> exists in the plugin's data folder.</summary>
public sealed class FlakyVal : TestValBase
{
    private string _flag = "";

    public override string PluginType => "flaky";

    public override Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        _flag = Path.Combine(context.DataDirectory, "engine-down");
        return Task.CompletedTask;
    }

    public override Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(_flag) ? EngineHealth.Unavailable($"flag {_flag} is set") : EngineHealth.Available);
}
