using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>The 64-octet greeting: ours, and what we make of a peer's, good or bad.</summary>
public sealed class ZmtpGreetingTests
{
    /// <summary>A greeting as libzmq 4.3 sends it: its routing-id length + 1 in the padding, ZMTP 3.1, NULL.</summary>
    private static byte[] Libzmq(byte major = 3, byte minor = 1, string mechanism = "NULL")
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[8] = 1;
        greeting[9] = 0x7F;
        greeting[10] = major;
        greeting[11] = minor;
        System.Text.Encoding.ASCII.GetBytes(mechanism).CopyTo(greeting, 12);
        return greeting;
    }

    [Fact]
    public void Ours_is_zmtp_3_1_with_the_null_mechanism_and_no_server_role()
    {
        var greeting = ZmtpGreeting.Create();

        Assert.Equal(64, greeting.Length);
        Assert.Equal([0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3, 1], greeting[..12]);
        Assert.Equal("NULL"u8.ToArray(), greeting[12..16]);
        Assert.All(greeting[16..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    public void A_libzmq_greeting_is_accepted_whatever_its_padding_and_its_minor_version_is_kept(byte minor, int expected)
    {
        var greeting = Libzmq(minor: minor);

        ZmtpGreeting.CheckPrefix(greeting);
        Assert.Equal(expected, ZmtpGreeting.ReadMinor(greeting));
    }

    [Fact]
    public void A_peer_of_a_later_major_version_is_talked_to_as_3_1()
    {
        var greeting = Libzmq(major: 4, minor: 0);

        ZmtpGreeting.CheckPrefix(greeting);
        Assert.Equal(1, ZmtpGreeting.ReadMinor(greeting));
    }

    public static TheoryData<string, byte[], string> BadPrefixes => new()
    {
        { "an HTTP request", "GET / HTTP/1.1\r\n"u8.ToArray(), "not ZeroMQ: its first octet is 0x47 where a ZMTP greeting starts with 0xFF (GET / HTTP/1.1\\x0D\\x0A)" },
        { "zero octets", new byte[11], "not ZeroMQ: its first octet is 0x00" },
        { "ZMTP 1.0", [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0], "it speaks ZMTP 1.0 (libzmq 2.x)" },
        { "ZMTP 2.0", [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1], "it speaks ZMTP 2.0 (libzmq 3.x)" },
    };

    [Theory]
    [MemberData(nameof(BadPrefixes))]
    public void A_greeting_that_is_not_zmtp_3_is_refused_saying_what_it_is(string kind, byte[] prefix, string message)
    {
        var error = Assert.Throws<ZmtpProtocolException>(() => ZmtpGreeting.CheckPrefix(prefix));

        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{kind}: {error.Message}");
    }

    [Theory]
    [InlineData("CURVE")]
    [InlineData("PLAIN")]
    public void A_greeting_asking_for_another_mechanism_is_refused_naming_it(string mechanism)
    {
        var error = Assert.Throws<ZmtpProtocolException>(() => ZmtpGreeting.ReadMinor(Libzmq(mechanism: mechanism)));

        Assert.Equal($"it asks for the {mechanism} security mechanism; this socket speaks NULL only (a Unix socket: its file's permissions "
            + "decide who connects)", error.Message);
    }

    [Fact]
    public void A_mechanism_of_unprintable_octets_is_shown_escaped_in_the_refusal()
    {
        var greeting = Libzmq();
        greeting[12] = 0x1B;

        var error = Assert.Throws<ZmtpProtocolException>(() => ZmtpGreeting.ReadMinor(greeting));

        Assert.StartsWith("it asks for the \\x1BULL security mechanism", error.Message, StringComparison.Ordinal);
    }
}
