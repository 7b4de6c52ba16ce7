using System.Globalization;
using Motey.Host.Core.Model;
using Motey.Host.Parsing;

namespace Motey.Host.Api;

/// <summary>The query of GET /v1/service/{id}/logs, checked: every mistake named with the parameter it is in.</summary>
/// <param name="Image">The image's index or name as given; null when not given.</param>
/// <param name="Tail">Only the last this many lines; null = all.</param>
/// <param name="Follow">Keep streaming new lines until the instance ends.</param>
/// <param name="Timestamps">Text format: put the time before each line that has one.</param>
internal sealed record LogQuery(string? Image, int? Tail, bool Follow, bool Timestamps)
{
    public static readonly string[] Known = ["image", "tail", "follow", "timestamps"];

    public static LogQuery Parse(IQueryCollection query, List<InputError> errors)
    {
        foreach (var (key, values) in query)
        {
            if (!Known.Contains(key, StringComparer.Ordinal))
                errors.Add(new InputError($"query.{key}", $"unknown parameter; known: {string.Join(", ", Known)}"));
            else if (values.Count > 1)
                errors.Add(new InputError($"query.{key}", $"given {values.Count} times; give it once"));
        }
        string? Value(string key) => query.TryGetValue(key, out var values) && values.Count == 1 ? values[0] : null;

        int? tail = null;
        if (Value("tail") is { } tailText)
        {
            if (int.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) tail = n;
            else errors.Add(new InputError("query.tail", $"expected a whole number >= 0 (lines from the end), got '{Shorten(tailText)}'"));
        }
        var image = Value("image");
        if (image is { Length: 0 }) errors.Add(new InputError("query.image", "empty; give the image's index or name"));
        return new LogQuery(image, tail, Flag("follow"), Flag("timestamps"));

        bool Flag(string key)
        {
            var text = Value(key);
            if (text is null || text.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
            if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
            errors.Add(new InputError($"query.{key}", $"expected true or false, got '{Shorten(text)}'"));
            return false;
        }
    }

    /// <summary>
    /// The index of the image <see cref="Image"/> names in <paramref name="service"/> (an index, or a name that is unique
    /// there; with one image it may be left out), or the problem: 400 when it must be chosen, 404 when there is no such image.
    /// </summary>
    public (int Index, IResult? Problem) ChooseImage(Service service)
    {
        var images = service.Images;
        string Listing() => $"{images.Count} image{(images.Count == 1 ? "" : "s")}: "
            + string.Join(", ", images.Select((image, i) => string.Create(CultureInfo.InvariantCulture, $"{i} ({image.Name})")));
        if (Image is null)
        {
            return images.Count == 1
                ? (0, null)
                : (-1, Problems.BadRequest("Choose an image", $"service {service.Id} has {Listing()}; choose one with ?image="));
        }
        if (int.TryParse(Image, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return index < images.Count
                ? (index, null)
                : (-1, Problems.NotFound($"service {service.Id} has no image {index}; it has {Listing()}"));
        }
        var named = images.Select((image, i) => (image, i)).Where(x => x.image.Name == Image).Select(x => x.i).ToList();
        return named.Count switch
        {
            1 => (named[0], null),
            0 => (-1, Problems.NotFound($"service {service.Id} has no image named '{Shorten(Image)}'; it has {Listing()}")),
            _ => (-1, Problems.BadRequest("Choose an image",
                $"service {service.Id} has {named.Count} images named '{Image}' ({string.Join(", ", named)}); choose one by index with ?image=")),
        };
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
