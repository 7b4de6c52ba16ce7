using System.Net;
using System.Net.Sockets;
using System.Text;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Api;

/// <summary>
/// Bodies over [WEBSERVER] max_body_bytes (1 MiB here) from clients that do not ask to continue first: they send the
/// whole body before they read, and must then read the 413 problem, not a reset. A raw socket plays such a client
/// (curl without <c>Expect</c>, most scripts); HttpClient is checked too.
/// </summary>
public sealed class OversizedBodyTests : NodeTest
{
    private const int TwoMiB = 2 * 1024 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static byte[] Blueprint(int size)
    {
        var head = "service_name: big\nimages:\n- name: a\n  engine: simulated\n#";
        return Encoding.UTF8.GetBytes(head + new string('x', size - head.Length - 1) + "\n");
    }

    [Fact]
    public async Task A_2_MiB_body_with_a_length_and_no_Expect_is_read_to_its_end_and_answered_413_on_a_connection_that_stays_usable()
    {
        var answers = await SendRawAsync(Blueprint(TwoMiB), chunked: false);

        AssertProblem413(answers);
        Assert.Contains("HTTP/1.1 204", answers);  // the heartbeat sent after the body, on the same connection
    }

    [Fact]
    public async Task A_2_MiB_chunked_body_is_answered_413_on_a_connection_that_stays_usable()
    {
        var answers = await SendRawAsync(Blueprint(TwoMiB), chunked: true);

        AssertProblem413(answers);
        Assert.Contains("HTTP/1.1 204", answers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HttpClient_posting_2_MiB_reads_the_413_problem_every_time(bool chunked)
    {
        for (var i = 0; i < 5; i++)
        {
            var body = Blueprint(TwoMiB);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/service")
            {
                Content = chunked ? new UnknownLengthContent(body) : new ByteArrayContent(body),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-yaml");

            using var response = await Node.Client.SendAsync(request);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("max_body_bytes", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_huge_declared_length_is_refused_without_reading_it_all_and_the_node_stays_healthy()
    {
        const long Declared = 1L << 30;
        using var client = new TcpClient();
        await client.ConnectAsync(Node.Address, Node.Client.BaseAddress!.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/service HTTP/1.1\r\nHost: motey\r\nContent-Type: application/x-yaml\r\nContent-Length: {Declared}\r\n\r\n"));

        // Keep sending until the node answers or closes: it must do so long before the declared gigabyte.
        long sent = 0;
        var piece = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(Deadline);
        var answer = ReadToEndAsync(stream, deadline.Token);
        try
        {
            while (!answer.IsCompleted && sent < Declared)
            {
                await stream.WriteAsync(piece, deadline.Token);
                sent += piece.Length;
            }
        }
        catch (IOException)
        {
            // closed by the node: allowed for a length this far over the limit
        }
        var text = await answer;

        Assert.True(sent < 64L * 1024 * 1024, $"the node read {sent} bytes of a body it could refuse from its length");
        Assert.True(text.Length == 0 || text.StartsWith("HTTP/1.1 413", StringComparison.Ordinal), $"unexpected answer: {text[..Math.Min(200, text.Length)]}");
        using var heartbeat = await Node.Client.GetAsync("/v1/heartbeat");
        Assert.Equal(HttpStatusCode.NoContent, heartbeat.StatusCode);
    }

    private static void AssertProblem413(string answers)
    {
        Assert.StartsWith("HTTP/1.1 413", answers);
        Assert.Contains("application/problem+json", answers);
        Assert.Contains("([WEBSERVER] max_body_bytes)", answers);
    }

    /// <summary>
    /// Sends the whole body as a client that reads only afterwards, then a heartbeat on the same connection (closing
    /// it after that), and returns everything the node answered. A reset while sending fails the test.
    /// </summary>
    private async Task<string> SendRawAsync(byte[] body, bool chunked)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(Node.Address, Node.Client.BaseAddress!.Port);
        var stream = client.GetStream();
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {body.Length}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/service HTTP/1.1\r\nHost: motey\r\nContent-Type: application/x-yaml\r\n{framing}\r\n\r\n"));
        var sent = 0;
        try
        {
            for (; sent < body.Length; sent += 64 * 1024)
            {
                var piece = body.AsMemory(sent, Math.Min(64 * 1024, body.Length - sent));
                if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n"));
                await stream.WriteAsync(piece);
                if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
            }
            if (chunked) await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            await stream.WriteAsync("GET /v1/heartbeat HTTP/1.1\r\nHost: motey\r\nConnection: close\r\n\r\n"u8.ToArray());
        }
        catch (IOException e)
        {
            Assert.Fail($"the node broke the connection after {sent} of {body.Length} bytes: {e.Message}");
        }
        using var deadline = new CancellationTokenSource(Deadline);
        return await ReadToEndAsync(stream, deadline.Token);
    }

    /// <summary>Everything until the node closes the connection; what came before a reset, if one comes.</summary>
    private static async Task<string> ReadToEndAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0) received.Write(buffer, 0, read);
        }
        catch (IOException)
        {
        }
        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>A body without Content-Length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
