namespace Motey.Val.Process;

/// <summary>Where the plugin keeps its files under the data directory the agent gives it.</summary>
internal sealed class DataFolders(string root)
{
    /// <summary>The data directory itself; also the default working directory of instances.</summary>
    public string Root { get; } = root;

    /// <summary>One record per instance, <c>&lt;id&gt;.json</c>.</summary>
    public string Instances { get; } = Path.Combine(root, "instances");

    /// <summary>One log per instance, <c>&lt;id&gt;.log</c>: the program's stdout and stderr.</summary>
    public string Logs { get; } = Path.Combine(root, "logs");

    public InstanceRecordStore Records { get; } = new(Path.Combine(root, "instances"));

    public string LogOf(ProcessInstanceId id) => Path.Combine(Logs, $"{id}.log");
}
