using System.Diagnostics;
using System.Text;
using Motey.Host.Membership;

namespace Motey.Host.Tests.Membership;

/// <summary>
/// The embedded broker reads the password files operators make for mosquitto. The lines below were written by
/// mosquitto_passwd 2.0.11 (alice and dave: the default $7$; bob: -H sha512, i.e. $6$; carol: -I 1000); the Broker
/// tests run mosquitto_passwd itself.
/// </summary>
public sealed class MosquittoPasswordFileTests
{
    private static readonly string[] MadeByMosquittoPasswd =
    [
        "alice:$7$101$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==",
        "bob:$6$x52WIu8HSRwxD/V9$o+dxVQ+eVje4IcMXZ+a7Dg6qb4ak4MYAgWEKEiM+q2tOZI8CkMWEyLa93aGK/mfGYNYbT2X5I3j87cwXy21d2Q==",
        "carol:$7$1000$a23SYuNXG5TDxszD$A7OpdconmpwT8bxIS6ZiiMb4ntf+VnFuYMpbhkj1FWpaI6XnwDvUntN2a4EXPNFN/gO9WhnhhDc99wkezxgMbA==",
        "dave:$7$101$KPlS3whxlzOBBbtg$t1PP5l8ornKQMr2/nYYZ5KIhJuy+7ygdg7/H7Cfpx2KjoKFqw8kmqm4+ns+x3MgpFsQAKSZzmPHlghTpNq5oOw==",
    ];

    private static byte[] Bytes(string password) => Encoding.UTF8.GetBytes(password);

    private static MosquittoPasswordFile Parse(params string[] lines) => MosquittoPasswordFile.Parse("/etc/motey/mqtt.passwd", lines);

    private static FormatException Malformed(params string[] lines) => Assert.Throws<FormatException>(() => Parse(lines));

    [Theory]
    [InlineData("alice", "correct horse")]  // $7$, 101 iterations
    [InlineData("bob", "hunter2")]          // $6$
    [InlineData("carol", "pä ss:w$rd")]     // $7$, 1000 iterations, a password with ':' '$' and non-ASCII
    [InlineData("dave", "")]                // an empty password
    public void A_login_made_by_mosquitto_passwd_is_accepted(string user, string password)
    {
        var file = Parse(MadeByMosquittoPasswd);

        Assert.Equal(4, file.Count);
        Assert.Equal(LoginCheck.Accepted, file.Check(user, Bytes(password)));
    }

    [Theory]
    [InlineData("alice", "correct horse ")]
    [InlineData("alice", "Correct horse")]
    [InlineData("bob", "hunter")]
    [InlineData("carol", "pa ss:w$rd")]
    [InlineData("dave", " ")]
    public void A_wrong_password_is_refused(string user, string password)
    {
        Assert.Equal(LoginCheck.WrongPassword, Parse(MadeByMosquittoPasswd).Check(user, Bytes(password)));
    }

    [Theory]
    [InlineData("Alice")]
    [InlineData("mallory")]
    [InlineData("")]
    [InlineData(null)]
    public void A_user_not_in_the_file_is_refused_whatever_the_password(string? user)
    {
        var file = Parse(MadeByMosquittoPasswd);

        Assert.Equal(LoginCheck.UnknownUser, file.Check(user, Bytes("correct horse")));
        Assert.False(file.Accepts(user, Bytes("correct horse")));
    }

    [Fact]
    public void Blank_lines_comments_and_surrounding_blanks_are_skipped()
    {
        var file = Parse("# logins of the fog", "", "   ", "  " + MadeByMosquittoPasswd[1] + " \r", "\t# bob's old hash was here");

        Assert.Equal(1, file.Count);
        Assert.True(file.Accepts("bob", Bytes("hunter2")));
    }

    [Theory]
    [InlineData("alice", "not user:$7$iterations$salt$hash")]
    [InlineData(":$7$101$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==", "no user name before ':'")]
    [InlineData("alice:correct horse", "user 'alice': the password is not hashed (hash the file with mosquitto_passwd -U)")]
    [InlineData("alice:", "user 'alice': the password is not hashed")]
    [InlineData("alice:$5$OUeI0GxDTljaaTmB$abc", "user 'alice': unknown hash $5$ (mosquitto_passwd writes $7$, or $6$ with -H sha512)")]
    [InlineData("alice:$7$OUeI0GxDTljaaTmB$S8+/SmcB", "user 'alice': not $7$iterations$salt$hash")]
    [InlineData("erin:$6$101$x52WIu8HSRwxD/V9$o+dxVQ", "user 'erin': not $6$salt$hash")]
    [InlineData("alice:$7$0$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==", "user 'alice': the iterations of $7$ are not a whole number above 0")]
    [InlineData("alice:$7$-5$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==", "the iterations of $7$ are not a whole number above 0")]
    [InlineData("alice:$7$101$not*base64$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==", "user 'alice': the salt is not base64")]
    [InlineData("alice:$7$101$$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8VojIcf7dCw4S6ZwGjOcybYXJti09wtaYzTvPkKzc9lg==", "user 'alice': the salt is not base64")]
    [InlineData("alice:$7$101$OUeI0GxDTljaaTmB$S8+/SmcBaVyTn+ZQHe3W2f/Zjg9VOUdj3X6EdQVjLZ8V", "user 'alice': the hash is 33 bytes, not the 64 of SHA-512")]
    public void A_malformed_line_is_an_error_naming_file_and_line(string line, string what)
    {
        var error = Malformed("# logins", MadeByMosquittoPasswd[1], line);

        Assert.StartsWith("/etc/motey/mqtt.passwd:3: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
        // The hash (and a plain-text password) is never repeated in the message.
        Assert.DoesNotContain("S8+/SmcB", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_listed_twice_is_an_error_naming_both_lines()
    {
        var error = Malformed(MadeByMosquittoPasswd[0], "", MadeByMosquittoPasswd[0].Replace("$101$", "$102$", StringComparison.Ordinal));

        Assert.Equal("/etc/motey/mqtt.passwd:3: user 'alice' is already on line 1", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_utf8_text_cannot_be_loaded()
    {
        using var folder = new TempDirectory("motey-passwd-");
        var path = Path.Combine(folder.Path, "mqtt.passwd");
        File.WriteAllBytes(path, [.. Bytes("alice"), 0xFF, .. Bytes(":$7$101$x$y\n")]);

        Assert.Throws<DecoderFallbackException>(() => MosquittoPasswordFile.Load(path));
    }

    [Fact]
    [Trait(Categories.Name, Categories.Broker)]
    public async Task A_file_mosquitto_passwd_makes_now_gives_the_same_answers()
    {
        using var folder = new TempDirectory("motey-passwd-");
        var path = Path.Combine(folder.Path, "mqtt.passwd");
        await MosquittoPasswdAsync("-b", "-c", path, "node", "s3cret:$x");
        await MosquittoPasswdAsync("-H", "sha512", "-b", path, "legacy", "old password");
        await MosquittoPasswdAsync("-H", "sha512-pbkdf2", "-b", path, "admin", "ünïcode");

        var file = MosquittoPasswordFile.Load(path);

        Assert.Equal(3, file.Count);
        Assert.Contains("legacy:$6$", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.True(file.Accepts("node", Bytes("s3cret:$x")));
        Assert.True(file.Accepts("legacy", Bytes("old password")));
        Assert.True(file.Accepts("admin", Bytes("ünïcode")));
        Assert.False(file.Accepts("node", Bytes("s3cret:$")));
        Assert.False(file.Accepts("legacy", Bytes("old passwordold password")));
        Assert.False(file.Accepts("admin", Bytes("unicode")));
    }

    /// <summary>Runs mosquitto_passwd (installed with mosquitto by scripts/test-services.sh).</summary>
    internal static async Task MosquittoPasswdAsync(params string[] args)
    {
        var info = new ProcessStartInfo("mosquitto_passwd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"mosquitto_passwd {string.Join(' ', args)}: {error}");
    }
}
