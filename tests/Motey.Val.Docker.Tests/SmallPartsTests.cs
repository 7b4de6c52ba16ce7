using Motey.Val.Docker.Parameters;

namespace Motey.Val.Docker.Tests;

/// <summary>Image references for a pull, and command strings split into words.</summary>
public sealed class SmallPartsTests
{
    [Theory]
    [InlineData("alpine", "alpine", "latest")]
    [InlineData("alpine:3.19", "alpine", "3.19")]
    [InlineData("motey/busybox:local", "motey/busybox", "local")]
    [InlineData("localhost:5000/app", "localhost:5000/app", "latest")]
    [InlineData("localhost:5000/app:2", "localhost:5000/app", "2")]
    [InlineData("alpine@sha256:abcd", "alpine@sha256:abcd", null)]
    public void A_pull_names_a_tag_so_the_engine_never_pulls_every_tag(string name, string fromImage, string? tag)
    {
        Assert.Equal((fromImage, tag), ImageReference.ForPull(name));
    }

    [Theory]
    [InlineData("sleep 300", new[] { "sleep", "300" })]
    [InlineData("  sleep \t 300  ", new[] { "sleep", "300" })]
    [InlineData("sh -c 'echo \"a  b\"; exit 3'", new[] { "sh", "-c", "echo \"a  b\"; exit 3" })]
    [InlineData("echo \"it's\" \"\\\"q\\\"\" \"\\a\"", new[] { "echo", "it's", "\"q\"", "\\a" })]
    [InlineData("echo a\\ b ''", new[] { "echo", "a b", "" })]
    [InlineData("pre'fix'\"ed\"", new[] { "prefixed" })]
    [InlineData("", new string[0])]
    public void A_command_string_splits_like_a_posix_shell_without_expansions(string text, string[] words)
    {
        Assert.Equal(words, CommandParameter.SplitWords(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("echo 'a", "a single quote is not closed")]
    [InlineData("echo \"a", "a double quote is not closed")]
    [InlineData("echo a\\", "the command ends with a lone backslash")]
    public void A_command_string_with_an_open_quote_is_an_error(string text, string error)
    {
        CommandParameter.SplitWords(text, out var found);
        Assert.Equal(error, found);
    }

    [Fact]
    public void The_engines_message_is_taken_from_its_json_body()
    {
        Assert.Equal("No such image: x", EngineMessage.Of("""{"message":"No such image: x"}""", 404));
        Assert.Equal("<html>bad gateway</html>", EngineMessage.Of("<html>bad gateway</html>\n", 502));
        Assert.Equal("HTTP status 500", EngineMessage.Of("", 500));
        Assert.Equal("{not json", EngineMessage.Of("{not json", 500));
    }
}
