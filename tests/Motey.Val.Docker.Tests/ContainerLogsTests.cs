using System.Collections.Concurrent;
using Docker.DotNet.Models;
using Motey.Abstractions;

namespace Motey.Val.Docker.Tests;

/// <summary>A container's output through the VAL, as <c>docker logs</c> shows it, on the real engine.</summary>
[Trait(Categories.Name, Categories.Docker)]
public sealed class ContainerLogsTests : EngineTest
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Output_appears_with_stdout_and_stderr_told_apart_and_the_engines_times()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var id = await RunAsync("""{"command": ["sh", "-c", "echo one; echo two >&2; echo three; echo four >&2"]}""");
        await WaitForStateAsync(id, ImageState.Terminated, "the command ended");

        var lines = await ReadAsync(id, new LogRequest());

        Assert.Equal(["one", "three"], TextOf(lines, LogSource.Stdout));
        Assert.Equal(["two", "four"], TextOf(lines, LogSource.Stderr));
        Assert.All(lines, line => Assert.InRange(line.Time!.Value, before, DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task Tail_gives_only_the_last_lines()
    {
        var id = await RunAsync("""{"command": ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done"]}""");
        await WaitForStateAsync(id, ImageState.Terminated, "the command ended");

        Assert.Equal(["line 4", "line 5"], (await ReadAsync(id, new LogRequest(Tail: 2))).Select(l => l.Text));
        Assert.Empty(await ReadAsync(id, new LogRequest(Tail: 0)));
    }

    [Fact]
    public async Task A_line_longer_than_the_engines_16_KiB_pieces_comes_back_whole_and_bad_utf8_is_replaced()
    {
        var id = await RunAsync("""{"command": ["sh", "-c", "head -c 40000 /dev/zero | tr '\\0' a; echo; printf 'caf\\351\\n'; printf 'no newline'"]}""");
        await WaitForStateAsync(id, ImageState.Terminated, "the command ended");

        var lines = await ReadAsync(id, new LogRequest());

        Assert.Equal(3, lines.Count);
        Assert.Equal(new string('a', 40000), lines[0].Text);
        Assert.Equal("caf\uFFFD", lines[1].Text);
        Assert.Equal("no newline", lines[2].Text);
    }

    [Fact]
    public async Task Follow_streams_a_line_printed_after_the_read_began_and_ends_when_the_container_stops()
    {
        // On SIGUSR1 (passed on by the engine's init) the shell prints "after": a line that cannot exist before we ask.
        var id = await RunAsync("""{"command": ["sh", "-c", "trap 'echo after' USR1; echo ready; while true; do sleep 0.1; done"]}""");
        var seen = new ConcurrentQueue<LogLine>();
        var reading = Task.Run(async () =>
        {
            await foreach (var line in Val.ReadLogsAsync(id, new LogRequest(Follow: true), default)) seen.Enqueue(line);
        });
        await Wait.UntilAsync(() => seen.Any(l => l.Text == "ready"), "the follow has the line printed before", Deadline);

        await Docker.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "USR1" });

        await Wait.UntilAsync(() => seen.Any(l => l.Text == "after"), "the follow has the line printed after it began", Deadline);
        Assert.False(reading.IsCompleted);

        await Val.StopInstanceAsync(id, default);

        await reading.WaitAsync(Deadline);
        Assert.Equal(["ready", "after"], seen.Select(l => l.Text));
        Assert.All(seen, l => Assert.Equal(LogSource.Stdout, l.Source));
    }

    [Fact]
    public async Task Cancelling_a_follow_just_ends_it()
    {
        var id = await RunAsync("""{"command": ["sh", "-c", "echo ready; sleep 300"]}""");
        using var cancel = new CancellationTokenSource();
        var seen = new ConcurrentQueue<LogLine>();
        var reading = Task.Run(async () =>
        {
            await foreach (var line in Val.ReadLogsAsync(id, new LogRequest(Follow: true), cancel.Token)) seen.Enqueue(line);
        });
        await Wait.UntilAsync(() => !seen.IsEmpty, "the follow has the first line", Deadline);

        await cancel.CancelAsync();

        await reading.WaitAsync(Deadline); // no exception: the enumeration just ends
        Assert.Equal(ImageState.Running, await Val.GetInstanceStateAsync(id, default));
    }

    [Fact]
    public async Task A_container_this_val_does_not_manage_is_refused_and_an_unknown_one_too()
    {
        var foreign = await Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = LocalDocker.Busybox,
            Cmd = ["echo", "secret"],
            Labels = new Dictionary<string, string> { [RunLabel] = Run, [InstanceLabels.ServiceId] = "svc1" },
            HostConfig = new HostConfig { NetworkMode = "none" },
        });

        var refused = await Assert.ThrowsAsync<ValException>(() => ReadAsync(foreign.ID, new LogRequest()));
        Assert.Equal($"container '{foreign.ID}' is not an instance of this VAL", refused.Message);

        var unknown = await Assert.ThrowsAsync<ValException>(() => ReadAsync(Run + "-never-created", new LogRequest()));
        Assert.Contains("does not exist", unknown.Message);
    }

    [Fact]
    public async Task An_instance_named_by_its_container_name_or_an_id_prefix_is_refused()
    {
        var id = await RunAsync("""{"command": ["sh", "-c", "echo mine"]}""");
        await WaitForStateAsync(id, ImageState.Terminated, "the command ended");
        var name = (await Docker.Containers.InspectContainerAsync(id)).Name.TrimStart('/');

        foreach (var other in new[] { name, id[..12] })
        {
            var refused = await Assert.ThrowsAsync<ValException>(() => ReadAsync(other, new LogRequest()));
            Assert.Equal($"container '{other}' is not an instance of this VAL", refused.Message);
        }
        Assert.Equal(["mine"], (await ReadAsync(id, new LogRequest())).Select(l => l.Text));
    }

    private async Task<List<LogLine>> ReadAsync(string id, LogRequest request)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var lines = new List<LogLine>();
        await foreach (var line in Val.ReadLogsAsync(id, request, deadline.Token)) lines.Add(line);
        Assert.False(deadline.IsCancellationRequested, "the read did not end by itself");
        return lines;
    }

    private static List<string> TextOf(IEnumerable<LogLine> lines, LogSource source) =>
        lines.Where(l => l.Source == source).Select(l => l.Text).ToList();
}
