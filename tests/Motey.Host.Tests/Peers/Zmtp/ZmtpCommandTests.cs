using System.Buffers.Binary;
using System.Text;
using Motey.Host.Peers.Zmtp;

namespace Motey.Host.Tests.Peers.Zmtp;

/// <summary>Commands and READY metadata: what libzmq sends is read, what breaks the grammar is refused with its reason.</summary>
public sealed class ZmtpCommandTests
{
    /// <summary>A command frame's body as libzmq 4.3 sends READY from a PUB socket (seen on the wire).</summary>
    private static readonly byte[] LibzmqPubReady = Convert.FromHexString("0552454144590b536f636b65742d5479706500000003505542");

    [Fact]
    public void Libzmqs_ready_is_read_with_its_socket_type_whatever_the_case_of_the_name()
    {
        var command = ZmtpCommand.Parse(LibzmqPubReady);
        var metadata = ZmtpCommand.ParseMetadata(command.Data);

        Assert.Equal(ZmtpCommand.Ready, command.Name);
        Assert.Equal("PUB"u8.ToArray(), metadata["socket-type"]);
    }

    [Fact]
    public void Our_ready_is_the_octets_libzmq_sends_for_the_same_socket_type()
    {
        Assert.Equal([0x04, (byte)LibzmqPubReady.Length, .. LibzmqPubReady], ZmtpCommand.ReadyOf("PUB").Encode());
    }

    [Fact]
    public void Metadata_with_several_properties_and_an_empty_value_is_read_whole()
    {
        var data = Property("Socket-Type", "SUB").Concat(Property("Identity", "")).Concat(Property("X-Motey", "yes")).ToArray();

        var metadata = ZmtpCommand.ParseMetadata(data);

        Assert.Equal(3, metadata.Count);
        Assert.Empty(metadata["identity"]);
        Assert.Equal("yes"u8.ToArray(), metadata["X-MOTEY"]);
    }

    public static TheoryData<string, byte[], string> MalformedCommands => new()
    {
        { "empty", [], "a command frame is empty (it has no command name)" },
        { "empty name", [0], "a command has an empty name" },
        { "name past the frame", [9, (byte)'S', (byte)'U', (byte)'B'], "a command's name of 9 octets runs past its frame of 4 octets" },
        { "not letters", [4, (byte)'P', (byte)'I', (byte)'N', 0x00], "a command name holds something other than letters: 'PIN\\x00'" },
    };

    [Theory]
    [MemberData(nameof(MalformedCommands))]
    public void A_malformed_command_is_refused_saying_what_is_wrong(string kind, byte[] body, string message)
    {
        var error = Assert.Throws<ZmtpProtocolException>(() => ZmtpCommand.Parse(body));

        Assert.True(error.Message == message, $"{kind}: {error.Message}");
    }

    public static TheoryData<string, byte[], string> MalformedMetadata => new()
    {
        { "empty name", [0, 0, 0, 0, 0], "a READY property has an empty name" },
        { "name past the data", [20, (byte)'S', (byte)'o'], "a READY property's name of 20 octets and its value size run past the command" },
        { "value size cut short", [.. Property("Socket-Type", "SUB").Take(14)], "a READY property's name of 11 octets and its value size run past the command" },
        { "value past the data", [.. Property("Socket-Type", "SUB").SkipLast(1)], "the READY property Socket-Type declares a value of 3 octets, but 2 remain" },
        { "value of 4 GiB", [1, (byte)'A', 0xFF, 0xFF, 0xFF, 0xFF, 1], "the READY property A declares a value of 4294967295 octets, but 1 remain" },
    };

    [Theory]
    [MemberData(nameof(MalformedMetadata))]
    public void Malformed_ready_metadata_is_refused_saying_what_is_wrong(string kind, byte[] data, string message)
    {
        var error = Assert.Throws<ZmtpProtocolException>(() => ZmtpCommand.ParseMetadata(data));

        Assert.True(error.Message == message, $"{kind}: {error.Message}");
    }

    [Fact]
    public async Task An_error_carries_its_reason_printable_and_at_most_255_characters()
    {
        var encoded = ZmtpCommand.ErrorOf("invalid socket type\n" + new string('x', 300)).Encode();
        var frame = await new ZmtpFrameReader(new MemoryStream(encoded), 1024).ReadFrameAsync(CancellationToken.None);
        var error = ZmtpCommand.Parse(frame!.Value.Body);

        var reason = ZmtpCommand.ErrorReason(error.Data);
        Assert.Equal(ZmtpCommand.Error, error.Name);
        Assert.Equal(255, reason.Length);
        Assert.StartsWith("invalid socket typexxx", reason, StringComparison.Ordinal);
        Assert.Equal("", ZmtpCommand.ErrorReason([200, (byte)'x']));  // a reason that runs past the command is not read
    }

    private static byte[] Property(string name, string value)
    {
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, value.Length);
        return [(byte)name.Length, .. Encoding.ASCII.GetBytes(name), .. size, .. Encoding.ASCII.GetBytes(value)];
    }
}
