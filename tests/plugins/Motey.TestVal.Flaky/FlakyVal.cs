using System.Runtime.CompilerServices;
using Motey.Abstractions;

namespace Motey.TestVal;

/// <summary>
/// An engine that is down while the file <c>engine-down</c> exists in the plugin's data folder. Logs: none (the default
/// 501), except for an image named <c>chatty</c> (<see cref="ChattyLines"/> lines, all ready at once; the file
/// <c>chatty-read</c> appears when the last one has been taken) and one named <c>quiet</c> (no line ever; when followed, the file
/// <c>quiet-opened</c> appears when its reader starts waiting, <c>quiet-closed</c> when it is disposed).
/// </summary>
public sealed class FlakyVal : TestValBase, IValPlugin
{
    public const int ChattyLines = 1_000_000;

    private string _flag = "";
    private string _data = "";

    public override string PluginType => "flaky";

    public override Task ActivateAsync(ValContext context, CancellationToken cancellationToken)
    {
        _flag = Path.Combine(context.DataDirectory, "engine-down");
        _data = context.DataDirectory;
        return Task.CompletedTask;
    }

    public override Task<EngineHealth> CheckEngineAsync(CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(_flag) ? EngineHealth.Unavailable($"flag {_flag} is set") : EngineHealth.Available);

    protected override string NewId(InstanceSpec spec) => $"{Path.GetFileName(spec.ImageName)}-{Guid.NewGuid():N}";

    public IAsyncEnumerable<LogLine> ReadLogsAsync(string instanceId, LogRequest request, CancellationToken cancellationToken) =>
        instanceId.StartsWith("chatty-", StringComparison.Ordinal) ? ChattyAsync(cancellationToken)
        : instanceId.StartsWith("quiet-", StringComparison.Ordinal) ? QuietAsync(request.Follow, cancellationToken)
        : throw new NotSupportedException($"the '{PluginType}' VAL does not provide instance logs");

    private async IAsyncEnumerable<LogLine> ChattyAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        for (var i = 1; i <= ChattyLines; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new LogLine(null, LogSource.Stdout, $"chatty line {i:D7} of {ChattyLines}, always ready");
        }
        await File.WriteAllTextAsync(Path.Combine(_data, "chatty-read"), "", CancellationToken.None);
    }

    private async IAsyncEnumerable<LogLine> QuietAsync(bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!follow) yield break;
        await File.WriteAllTextAsync(Path.Combine(_data, "quiet-opened"), "", CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
        finally
        {
            File.WriteAllText(Path.Combine(_data, "quiet-closed"), "");
        }
    }
}
