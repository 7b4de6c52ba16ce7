using Docker.DotNet;
using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>Images on the real engine. No registry is reachable here, which makes a failed pull easy to get.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class ImageTests : EngineTest
{
    private const string Missing = "motey-test/definitely-missing:1";

    [Fact]
    public async Task Has_image_tells_a_present_image_from_a_missing_one()
    {
        Assert.True(await Val.HasImageAsync(LocalDocker.Busybox, default));
        Assert.False(await Val.HasImageAsync(Missing, default));
    }

    [Fact]
    public async Task Loading_a_present_image_does_not_pull_it()
    {
        // A pull of this local-only image could only fail (it is in no registry), so success means none was tried.
        await Val.LoadImageAsync(LocalDocker.Busybox, default);
    }

    [Fact]
    public async Task A_failed_pull_throws_with_the_engines_message()
    {
        var engineSays = await EngineMessageForPullAsync(Missing);

        var error = await Assert.ThrowsAsync<ValException>(() => Val.LoadImageAsync(Missing, default));

        Assert.StartsWith($"pulling image '{Missing}' failed: ", error.Message);
        Assert.Contains(engineSays, error.Message);
        Assert.False(await Val.HasImageAsync(Missing, default));
    }

    [Fact]
    public async Task Deleting_an_image_removes_it_and_deleting_a_missing_one_is_fine()
    {
        var (repository, tag) = ($"motey-test/{Run}", "1");
        await Docker.Images.TagImageAsync(LocalDocker.Busybox, new ImageTagParameters { RepositoryName = repository, Tag = tag });
        var image = $"{repository}:{tag}";
        Assert.True(await Val.HasImageAsync(image, default));

        await Val.DeleteImageAsync(image, default);

        Assert.False(await Val.HasImageAsync(image, default));
        Assert.True(await Val.HasImageAsync(LocalDocker.Busybox, default)); // only the tag went
        await Val.DeleteImageAsync(image, default);
    }

    /// <summary>What the engine itself answers to the pull: a refusal, or an error in the progress stream.</summary>
    private async Task<string> EngineMessageForPullAsync(string image)
    {
        var (repository, tag) = (image[..image.LastIndexOf(':')], image[(image.LastIndexOf(':') + 1)..]);
        var streamError = new StreamError();
        try
        {
            await Docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, streamError);
        }
        catch (DockerApiException e)
        {
            return System.Text.Json.JsonDocument.Parse(e.ResponseBody).RootElement.GetProperty("message").GetString()!;
        }
        return streamError.Message ?? throw new InvalidOperationException($"the engine pulled {image}, which should not exist");
    }

    private sealed class StreamError : IProgress<JSONMessage>
    {
        public string? Message { get; private set; }

        public void Report(JSONMessage value) => Message ??= value.Error?.Message ?? value.ErrorMessage;
    }
}
