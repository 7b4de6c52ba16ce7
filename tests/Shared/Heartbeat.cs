using System.Diagnostics;
using System.Net;

namespace Motey.Tests.Shared;

/// <summary>
/// Waits until an agent started as its own process is up: its <c>GET /v1/heartbeat</c> answers 204. Fails at once,
/// with what the agent printed, when the process exits first, and with the same when the deadline passes.
/// </summary>
internal static class Heartbeat
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static Task WaitAsync(HttpClient agent, Process process, Func<string> output, TimeSpan timeout) =>
        Wait.UntilAsync(async () =>
        {
            if (process.HasExited) Assert.Fail($"the agent exited with {process.ExitCode}:\n{output()}");
            try
            {
                using var response = await agent.GetAsync("/v1/heartbeat");
                return response.StatusCode == HttpStatusCode.NoContent;
            }
            catch (HttpRequestException)
            {
                return false;  // not listening yet
            }
        }, "the agent answers GET /v1/heartbeat with 204", timeout, Poll, output);
}
