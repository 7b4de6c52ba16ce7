using System.Text.Json;
using System.Text.Json.Serialization;

namespace Motey.Val.Process;

/// <summary>
/// What /proc cannot tell about an instance: its image name, labels and stop timeout.
/// Kept as <c>instances/&lt;id&gt;.json</c> from create to remove.
/// </summary>
/// <param name="Image">The image name as the blueprint gave it.</param>
/// <param name="Executable">The file it resolved to at create time.</param>
/// <param name="Labels">The agent's labels.</param>
/// <param name="StopTimeoutSeconds">Grace between SIGTERM and SIGKILL.</param>
/// <param name="CreatedAt">When the process was launched; reported after it has ended.</param>
/// <param name="BootId">The boot the process ran in; in any other boot the id names someone else.</param>
internal sealed record InstanceRecord(
    string Image,
    string Executable,
    IReadOnlyDictionary<string, string> Labels,
    double StopTimeoutSeconds,
    DateTimeOffset CreatedAt,
    string? BootId);

/// <summary>Reads and writes instance records in one folder; the id is validated before it becomes a file name.</summary>
internal sealed class InstanceRecordStore(string directory)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Write(ProcessInstanceId id, InstanceRecord record)
    {
        Directory.CreateDirectory(directory);
        var path = PathOf(id);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record, s_json));
        // Rename is atomic, so a reader (or an agent that crashed mid-write) never sees half a record.
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The record, or null when there is none. A damaged record throws: it needs a human, not silence.</summary>
    public InstanceRecord? Read(ProcessInstanceId id)
    {
        string text;
        try
        {
            text = File.ReadAllText(PathOf(id));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<InstanceRecord>(text, s_json)
                ?? throw new InvalidDataException($"instance record {PathOf(id)} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"instance record {PathOf(id)} is not valid: {e.Message}", e);
        }
    }

    public void Delete(ProcessInstanceId id) => File.Delete(PathOf(id));

    /// <summary>Ids of every stored record; files with other names are ignored.</summary>
    public IEnumerable<ProcessInstanceId> Ids()
    {
        if (!Directory.Exists(directory)) yield break;
        foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
        {
            if (ProcessInstanceId.TryParse(Path.GetFileNameWithoutExtension(file), out var id)) yield return id;
        }
    }

    private string PathOf(ProcessInstanceId id) => Path.Combine(directory, $"{id}.json");
}
