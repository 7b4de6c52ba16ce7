using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Motey.Tests.Shared;

/// <summary>
/// The Docker engine the tests run against: the one scripts/test-services.sh starts on /var/run/docker.sock, with the
/// local busybox image. <see cref="Http"/> asks its API directly, behind the agent's back and past any proxy.
/// </summary>
internal static class LocalDocker
{
    public const string SocketPath = "/var/run/docker.sock";
    public const string Url = "unix://" + SocketPath;

    /// <summary>The only image here (no registry is reachable): static busybox, CMD /bin/sh, PATH=/bin.</summary>
    public const string Busybox = "motey/busybox:local";

    /// <summary>A client of the engine's API: requests go to http://docker/..., over the socket.</summary>
    public static HttpClient Http() => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Fails, saying how to start the engine, unless it answers a ping.</summary>
    public static async Task RequireAsync()
    {
        using var http = Http();
        try
        {
            await http.GetStringAsync("http://docker/_ping");
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"the Docker engine does not answer on {SocketPath}: run scripts/test-services.sh (test.sh does)", e);
        }
    }

    /// <summary>A container as the engine lists it.</summary>
    public sealed record Container(string Id, string State, IReadOnlyDictionary<string, string> Labels);

    /// <summary>The containers, in any state, that carry <paramref name="label"/> (<c>key</c> or <c>key=value</c>).</summary>
    public static async Task<List<Container>> ContainersAsync(string label)
    {
        using var http = Http();
        var filters = Uri.EscapeDataString(JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = [label] }));
        var list = (await http.GetFromJsonAsync<List<JsonElement>>($"http://docker/containers/json?all=true&filters={filters}"))!;
        return list.Select(c => new Container(
            c.GetProperty("Id").GetString()!,
            c.GetProperty("State").GetString()!,
            c.GetProperty("Labels").Deserialize<Dictionary<string, string>>()!)).ToList();
    }

    /// <summary>Removes the container, running or not.</summary>
    public static async Task RemoveAsync(string id)
    {
        using var http = Http();
        await http.DeleteAsync($"http://docker/containers/{id}?force=true");
    }
}
