using System.Diagnostics;

namespace Motey.Tests.Shared;

/// <summary>
/// Waiting for a condition with a deadline, never a bare sleep: polls until the condition holds, and once the deadline
/// has passed fails the test saying what it waited for (and what it saw last, where the caller says how to show it).
/// </summary>
internal static class Wait
{
    /// <summary>The deadline unless the caller names one.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The pause between two looks unless the caller names one.</summary>
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails with "timed out after N s waiting until
    /// <paramref name="what"/>", followed by <paramref name="detail"/> when given.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? poll = null, Func<string>? detail = null)
    {
        var deadline = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > deadline) Assert.Fail($"timed out after {deadline.TotalSeconds:0.#} s waiting until {what}{Detail(detail)}");
            await Task.Delay(poll ?? DefaultPoll);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?, TimeSpan?, Func{string}?)"/>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? poll = null, Func<string>? detail = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, poll, detail);

    /// <summary>
    /// Looks at a value with <paramref name="look"/> until <paramref name="condition"/> holds for it, and returns it; fails
    /// as <see cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?, TimeSpan?, Func{string}?)"/> does, followed by
    /// <paramref name="lastSeen"/> of the last value seen.
    /// </summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> look, Func<T, bool> condition, string what, Func<T, string> lastSeen,
        TimeSpan? timeout = null, TimeSpan? poll = null)
    {
        var last = default(T)!;
        await UntilAsync(async () => condition(last = await look()), what, timeout, poll, () => lastSeen(last));
        return last;
    }

    /// <summary>
    /// Looks with <paramref name="broken"/> every <paramref name="poll"/> (200 ms unless named) for
    /// <paramref name="period"/>: fails the test with what it returned as soon as that is not null (what a state that
    /// must stay the same moved to).
    /// </summary>
    public static async Task HoldsAsync(Func<Task<string?>> broken, TimeSpan period, TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            if (await broken() is { } problem) Assert.Fail($"after {clock.Elapsed.TotalSeconds:0.#} s of {period.TotalSeconds:0.#} s: {problem}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200));
        }
        while (clock.Elapsed < period);
    }

    private static string Detail(Func<string>? detail) => detail is null ? "" : "\n" + detail();
}
