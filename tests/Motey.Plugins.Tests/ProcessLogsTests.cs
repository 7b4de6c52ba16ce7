using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Motey.Abstractions;
using Motey.Val.Process;
using static Motey.Plugins.Tests.TestSupport;

namespace Motey.Plugins.Tests;

/// <summary>
/// What process instances print, read through the VAL from the real log files their launcher writes: kept after the
/// process ends, bounded by [PROCESS] log_max_bytes, gone with the instance.
/// </summary>
public sealed class ProcessLogsTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new("motey-process-logs-");
    private readonly ProcessVal _val = new();
    private readonly List<string> _created = [];

    private static Dictionary<string, string?> Policy(string? logMaxBytes = null) =>
        new() { ["allowed_executables"] = "/bin, /usr/bin", ["log_max_bytes"] = logMaxBytes };

    public Task InitializeAsync() => _val.ActivateAsync(Context(_data.Path, Policy()), default);

    public async Task DisposeAsync()
    {
        foreach (var id in _created) await _val.RemoveInstanceAsync(id, default);
        await _val.DeactivateAsync(default);
        _data.Dispose();
    }

    [Fact]
    public async Task Output_and_errors_appear_merged_in_the_order_printed()
    {
        var id = await RunAsync("""{"args": ["-c", "echo one; echo two >&2; echo three"]}""");
        await EndedAsync(id);

        var lines = await ReadAsync(_val, id, new LogRequest());

        Assert.Equal(["one", "two", "three"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.Equal(LogSource.Output, l.Source));
        Assert.All(lines, l => Assert.Null(l.Time));
    }

    [Fact]
    public async Task Tail_gives_only_the_last_lines_and_a_partial_last_line_counts_as_one()
    {
        var id = await RunAsync("""{"args": ["-c", "for i in 1 2 3 4 5; do echo line $i; done; printf 'no newline'"]}""");
        await EndedAsync(id);

        Assert.Equal(["line 5", "no newline"], Texts(await ReadAsync(_val, id, new LogRequest(Tail: 2))));
        Assert.Equal(6, (await ReadAsync(_val, id, new LogRequest(Tail: 100))).Count);
        Assert.Empty(await ReadAsync(_val, id, new LogRequest(Tail: 0)));
    }

    [Fact]
    public async Task Follow_sees_lines_printed_after_it_began_and_ends_once_the_process_has_ended()
    {
        // On SIGUSR1 the shell prints two more lines and exits: lines that cannot exist before the follow began.
        var id = await RunAsync("""{"args": ["-c", "trap 'echo after; echo last; exit 0' USR1; echo ready; while true; do sleep 0.05; done"]}""");
        var seen = new ConcurrentQueue<string>();
        var reading = Task.Run(async () =>
        {
            await foreach (var line in _val.ReadLogsAsync(id, new LogRequest(Follow: true), default)) seen.Enqueue(line.Text);
        });
        await Wait.UntilAsync(() => seen.Contains("ready"), "the follow has the line printed before", Deadline);
        Assert.False(reading.IsCompleted);

        Assert.Equal(0, SendSignal(PidOf(id), SigUsr1));

        await reading.WaitAsync(TimeSpan.FromSeconds(20)); // ends by itself: the process ended
        Assert.Equal(["ready", "after", "last"], seen);
    }

    [Fact]
    public async Task Cancelling_a_follow_just_ends_it()
    {
        var id = await RunAsync("""{"args": ["-c", "echo ready; exec sleep 300"]}""");
        using var cancel = new CancellationTokenSource();
        var seen = new ConcurrentQueue<string>();
        var reading = Task.Run(async () =>
        {
            await foreach (var line in _val.ReadLogsAsync(id, new LogRequest(Follow: true), cancel.Token)) seen.Enqueue(line.Text);
        });
        await Wait.UntilAsync(() => !seen.IsEmpty, "the follow has the first line", Deadline);

        await cancel.CancelAsync();

        await reading.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(ImageState.Running, await _val.GetInstanceStateAsync(id, default));
    }

    [Fact]
    public async Task Rotation_keeps_the_output_within_log_max_bytes_and_keeps_the_newest_lines()
    {
        var val = new ProcessVal();
        await val.ActivateAsync(Context(_data.Path, Policy(logMaxBytes: "65536")), default);
        // About 290 KB of numbered lines, far over the limit, then it waits (running, so the log is still written to).
        var id = await val.CreateInstanceAsync(Spec("/bin/sh", """
            {"args": ["-c", "i=10000; while [ $i -lt 40000 ]; do echo \"line $i\"; i=$((i+1)); done; echo done; exec sleep 300"]}
            """), default);
        _created.Add(id);
        await val.StartInstanceAsync(id, default);
        var log = Path.Combine(_data.Path, "logs", $"{id}.log");
        await Wait.UntilAsync(() => TextOf(log + ".1").Contains("done\n") || TextOf(log).Contains("done\n"),
            "the program has printed all of its lines", Deadline);

        await Wait.ForAsync(() => Task.FromResult(SizeOf(log) + SizeOf(log + ".1")), size => size <= 65536,
            "the output on disk is within log_max_bytes", size => $"{size} bytes on disk", Deadline);

        var lines = Texts(await ReadAsync(val, id, new LogRequest()));
        Assert.Equal("done", lines[^1]);
        Assert.Equal("line 39999", lines[^2]);
        // The newest lines, whole and in order; the oldest are gone. (A line written in the instant between a rotation's
        // copy and its truncate is lost, so the test does not ask for every number.)
        var numbers = lines[..^1].Select(l => int.Parse(l["line ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(numbers.Order(), numbers);
        Assert.True(numbers[0] > 10000, $"the oldest line kept is line {numbers[0]}");
        Assert.True(numbers.Count > 1000, $"only {numbers.Count} lines kept");
        await val.DeactivateAsync(default);
    }

    [Fact]
    public async Task Output_outlives_the_process_and_an_agent_restart_until_the_instance_is_removed()
    {
        var id = await RunAsync("""{"args": ["-c", "echo bye"]}""");
        await EndedAsync(id);
        var restarted = new ProcessVal();
        await restarted.ActivateAsync(Context(_data.Path, Policy()), default);

        Assert.Equal(["bye"], Texts(await ReadAsync(restarted, id, new LogRequest())));

        await restarted.RemoveInstanceAsync(id, default);
        await restarted.DeactivateAsync(default);

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_data.Path, "logs")));
        var error = await Assert.ThrowsAsync<ValException>(() => ReadAsync(_val, id, new LogRequest()));
        Assert.Equal($"instance '{id}' does not exist on this node", error.Message);
    }

    [Fact]
    public async Task Removing_an_instance_deletes_its_rotated_output_too()
    {
        var id = await RunAsync("""{"args": ["-c", "echo hi; exec sleep 300"]}""");
        var log = Path.Combine(_data.Path, "logs", $"{id}.log");
        await File.WriteAllTextAsync(log + ".1", "older\n");
        await Wait.UntilAsync(() => TextOf(log).Contains("hi\n"), "the program printed its line", Deadline);

        Assert.Equal(["older", "hi"], Texts(await ReadAsync(_val, id, new LogRequest(Tail: 5))));

        await _val.RemoveInstanceAsync(id, default);

        Assert.False(File.Exists(log));
        Assert.False(File.Exists(log + ".1"));
    }

    [Theory]
    [InlineData("1000")]
    [InlineData("65535")]
    [InlineData("10MiB")]
    [InlineData("-1")]
    public async Task A_log_max_bytes_under_64_KiB_or_not_a_number_fails_activation_naming_the_key(string value)
    {
        var error = await Assert.ThrowsAsync<ValException>(() => new ProcessVal().ActivateAsync(Context(_data.Path, Policy(value)), default));

        Assert.Equal($"[PROCESS] log_max_bytes: expected a whole number of bytes from 65536 (64 KiB) to 2147483647, got '{value}'", error.Message);
    }

    [Fact]
    public async Task An_unknown_instance_has_no_logs()
    {
        var error = await Assert.ThrowsAsync<ValException>(() => ReadAsync(_val, "12345-678", new LogRequest()));

        Assert.Equal("instance '12345-678' does not exist on this node", error.Message);
    }

    private static async Task<List<LogLine>> ReadAsync(ProcessVal val, string id, LogRequest request)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var lines = new List<LogLine>();
        await foreach (var line in val.ReadLogsAsync(id, request, deadline.Token)) lines.Add(line);
        Assert.False(deadline.IsCancellationRequested, "the read did not end by itself");
        return lines;
    }

    private const int SigUsr1 = 10;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static List<string> Texts(IEnumerable<LogLine> lines) => lines.Select(l => l.Text).ToList();

    private static string TextOf(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    private static long SizeOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private Task EndedAsync(string id) =>
        Wait.UntilAsync(async () => await _val.GetInstanceStateAsync(id, default) == ImageState.Terminated, "the program ended", Deadline);

    private async Task<string> RunAsync(string parameters)
    {
        var id = await _val.CreateInstanceAsync(Spec("/bin/sh", parameters), default);
        _created.Add(id);
        await _val.StartInstanceAsync(id, default);
        return id;
    }
}
