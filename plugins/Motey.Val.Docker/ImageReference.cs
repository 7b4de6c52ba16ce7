namespace Motey.Val.Docker;

/// <summary>How a blueprint's image name is asked of the engine's pull.</summary>
internal static class ImageReference
{
    /// <summary>
    /// The <c>fromImage</c> and <c>tag</c> of a pull. A name without a tag is pulled as <c>latest</c>, as <c>docker pull</c>
    /// does: with an empty tag the engine would pull every tag of the repository. A digest reference goes as it is.
    /// </summary>
    public static (string FromImage, string? Tag) ForPull(string name)
    {
        if (name.Contains('@')) return (name, null);
        var colon = name.LastIndexOf(':');
        // A colon before the last slash belongs to a registry's port (localhost:5000/app), not to a tag.
        if (colon > name.LastIndexOf('/')) return (name[..colon], name[(colon + 1)..]);
        return (name, "latest");
    }
}
