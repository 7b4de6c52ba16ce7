namespace Motey.Tests.Shared;

/// <summary>
/// The values of the <c>Category</c> trait (<c>[Trait("Category", Categories.Docker)]</c>) that mark tests needing more
/// than this process: the fast tests are those with none of them, e.g.
/// <c>dotnet test --filter "Category!=Docker&amp;Category!=Broker&amp;Category!=EndToEnd"</c>.
/// </summary>
internal static class Categories
{
    /// <summary>The trait's name.</summary>
    public const string Name = "Category";

    /// <summary>Needs the real Docker engine on /var/run/docker.sock with its busybox image (scripts/test-services.sh).</summary>
    public const string Docker = "Docker";

    /// <summary>Needs the mosquitto binary (the embedded MQTTnet broker runs in the test process and does not count).</summary>
    public const string Broker = "Broker";

    /// <summary>Starts the built agent, or the dotnet CLI, as real OS processes: slow, and needs the whole build.</summary>
    public const string EndToEnd = "EndToEnd";

    /// <summary>Drives Debian's chromium (scripts/test-services.sh installs it); always together with <see cref="EndToEnd"/>.</summary>
    public const string Browser = "Browser";
}
