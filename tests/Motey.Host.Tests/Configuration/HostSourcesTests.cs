using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Motey.Host.Tests.Infrastructure;

namespace Motey.Host.Tests.Configuration;

/// <summary>
/// config.ini is the agent's whole configuration: the files ASP.NET Core reads by default beside it neither add a
/// listener nor make the agent watch the folder config.ini is in.
/// </summary>
public sealed class HostSourcesTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task An_appsettings_json_beside_config_ini_adds_no_listener()
    {
        var stray = TestNode.NextAddress();
        using (var probe = new TcpListener(IPAddress.Parse(stray), 0))
        {
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            File.WriteAllText(Path.Combine(_folder.Path, "appsettings.json"),
                $$"""{ "Kestrel": { "Endpoints": { "Stray": { "Url": "http://{{stray}}:{{port}}" } } } }""");

            await using var node = await TestNode.StartAsync(_folder);

            var addresses = node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            Assert.Equal([node.Client.BaseAddress!.ToString().TrimEnd('/')], addresses.Select(a => a.TrimEnd('/')));
            using var client = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(stray, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);
        }
    }

    [Fact]
    public async Task The_folder_of_config_ini_and_the_folders_below_it_are_not_watched()
    {
        var below = Directory.CreateDirectory(Path.Combine(_folder.Path, "notes", "2026")).FullName;
        var watchedBefore = InotifyWatchedInodes();

        await using var node = await TestNode.StartAsync(_folder);
        Assert.Equal(HttpStatusCode.NoContent, (await node.Client.GetAsync("/v1/heartbeat")).StatusCode);

        // Every inotify watch of this process, whichever test's node set it: none may be on these folders.
        var watched = InotifyWatchedInodes();
        foreach (var folder in new[] { _folder.Path, Path.GetDirectoryName(below)!, below })
        {
            var inode = Inode(folder);
            Assert.False(watched.Contains(inode) && !watchedBefore.Contains(inode), $"{folder} (inode {inode}) is watched");
        }
    }

    /// <summary>The inodes of every inotify watch this process holds, from /proc/self/fdinfo.</summary>
    private static HashSet<ulong> InotifyWatchedInodes()
    {
        var inodes = new HashSet<ulong>();
        foreach (var info in Directory.EnumerateFiles("/proc/self/fdinfo"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(info);
            }
            catch (IOException)
            {
                continue;  // closed since it was listed
            }
            foreach (var line in lines.Where(l => l.StartsWith("inotify ", StringComparison.Ordinal)))
            {
                var field = line.Split(' ').First(f => f.StartsWith("ino:", StringComparison.Ordinal));
                inodes.Add(ulong.Parse(field["ino:".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return inodes;
    }

    private static ulong Inode(string path)
    {
        var info = new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var stat = Process.Start(info)!;
        var output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }
}
