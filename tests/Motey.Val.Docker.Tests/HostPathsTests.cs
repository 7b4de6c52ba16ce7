using Motey.Val.Shared;

namespace Motey.Val.Docker.Tests;

/// <summary>
/// Host paths as the kernel resolves them, the ground every allow-list check stands on: <c>..</c>, repeated and trailing
/// slashes, links (real ones, made in a folder of the test's own), and folders compared by whole path segments.
/// </summary>
public sealed class HostPathsTests : IDisposable
{
    private readonly TempDirectory _root = new("motey-paths-");

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("/srv/../etc", "/etc")]
    [InlineData("/srv/data/", "/srv/data")]
    [InlineData("//srv///data//", "/srv/data")]
    [InlineData("/srv/./data/.", "/srv/data")]
    [InlineData("/srv/data/../../..", "/")]
    [InlineData("/..", "/")]
    [InlineData("/", "/")]
    [InlineData("/motey-no-such-folder/a/../b", "/motey-no-such-folder/b")]
    public void Dots_and_extra_slashes_go_the_way_the_kernel_reads_them(string path, string resolved)
    {
        Assert.Equal(resolved, HostPaths.Resolve(path));
    }

    [Fact]
    public void A_link_is_followed_to_its_target_absolute_or_relative()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root.Path, "data")).FullName;
        File.CreateSymbolicLink(Path.Combine(_root.Path, "absolute"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_root.Path, "relative"), "data");

        Assert.Equal("/etc", HostPaths.Resolve(Path.Combine(_root.Path, "absolute")));
        Assert.Equal("/etc/hostname", HostPaths.Resolve(Path.Combine(_root.Path, "absolute", "hostname")));
        Assert.Equal(Path.Combine(data, "x"), HostPaths.Resolve(Path.Combine(_root.Path, "relative", "x") + "/"));
    }

    [Fact]
    public void Dot_dot_after_a_link_leaves_the_links_target_not_the_link()
    {
        // What a lexical clean gets wrong: <root>/escape/.. is /, not <root>, once escape points at /etc.
        File.CreateSymbolicLink(Path.Combine(_root.Path, "escape"), "/etc");

        Assert.Equal("/", HostPaths.Resolve(Path.Combine(_root.Path, "escape", "..")));
        Assert.Equal("/root", HostPaths.Resolve(Path.Combine(_root.Path, "escape", "..", "root")));
    }

    [Fact]
    public void A_link_in_a_part_that_exists_is_followed_and_the_rest_kept_as_written()
    {
        File.CreateSymbolicLink(Path.Combine(_root.Path, "var"), "/var");

        Assert.Equal("/var/motey-not-yet/data", HostPaths.Resolve(Path.Combine(_root.Path, "var", "motey-not-yet", "data")));
    }

    [Fact]
    public void A_loop_of_links_is_an_error_not_a_hang()
    {
        File.CreateSymbolicLink(Path.Combine(_root.Path, "a"), Path.Combine(_root.Path, "b"));
        File.CreateSymbolicLink(Path.Combine(_root.Path, "b"), Path.Combine(_root.Path, "a"));

        var error = Assert.Throws<IOException>(() => HostPaths.Resolve(Path.Combine(_root.Path, "a", "x")));
        Assert.Contains("more than 40 symbolic links", error.Message);
        Assert.Null(HostPaths.TryResolve(Path.Combine(_root.Path, "a")));
    }

    [Theory]
    [InlineData("/srv/data", "/srv/data", true)]
    [InlineData("/srv/data/x/y", "/srv/data", true)]
    [InlineData("/srv/data2", "/srv/data", false)]
    [InlineData("/srv/dat", "/srv/data", false)]
    [InlineData("/srv", "/srv/data", false)]
    [InlineData("/anything", "/", true)]
    [InlineData("/", "/", true)]
    public void Within_compares_whole_path_segments(string path, string folder, bool within)
    {
        Assert.Equal(within, HostPaths.IsWithin(path, folder));
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData(" /srv/a , /srv/b,,", new[] { "/srv/a", "/srv/b" })]
    [InlineData("NET_ADMIN", new[] { "NET_ADMIN" })]
    public void A_list_setting_is_split_at_commas_and_trimmed(string text, string[] entries)
    {
        Assert.Equal(entries, HostPaths.ListSetting(text));
    }
}
