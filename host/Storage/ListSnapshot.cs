using System.Collections.ObjectModel;
using System.Text.Json;

namespace Motey.Host.Storage;

/// <summary>
/// A list read from the store, shared by every reader until the next write: read-only, so no caller can change
/// what the others see, and serialized to JSON at most once per set of serializer options.
/// </summary>
internal sealed class ListSnapshot<T>(IEnumerable<T> items)
{
    private Json? _json;

    public ReadOnlyCollection<T> Items { get; } = Array.AsReadOnly(items.ToArray());

    /// <summary>The list as UTF-8 JSON, exactly as <see cref="JsonSerializer"/> writes it with <paramref name="options"/>.</summary>
    public ReadOnlyMemory<byte> ToJson(JsonSerializerOptions options)
    {
        if (Volatile.Read(ref _json) is { } json && ReferenceEquals(json.Options, options)) return json.Bytes;
        var bytes = JsonSerializer.SerializeToUtf8Bytes<IReadOnlyList<T>>(Items, options);
        Volatile.Write(ref _json, new Json(options, bytes));
        return bytes;
    }

    private sealed record Json(JsonSerializerOptions Options, byte[] Bytes);
}
