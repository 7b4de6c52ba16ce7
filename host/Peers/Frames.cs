using System.Text;

namespace Motey.Host.Peers;

/// <summary>
/// The original Motey sends every message as one UTF-8 string frame. Anything else (several frames,
/// bytes that are not UTF-8) is malformed and is reported, never guessed at.
/// </summary>
internal static class Frames
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of a one-frame message; null with <paramref name="problem"/> set when it is not one.</summary>
    public static string? ReadText(IReadOnlyList<byte[]> frames, out string? problem)
    {
        problem = null;
        if (frames.Count != 1)
        {
            problem = $"the message has {frames.Count} frames; expected one UTF-8 text frame";
            return null;
        }
        try
        {
            return StrictUtf8.GetString(frames[0]);
        }
        catch (DecoderFallbackException e)
        {
            problem = $"the message is not valid UTF-8 (byte {e.Index} of {frames[0].Length})";
            return null;
        }
    }

    public static byte[] Encode(string text) => StrictUtf8.GetBytes(text);

    /// <summary>A message shortened for a log line: peers may send megabytes.</summary>
    public static string Preview(string text, int max = 120) =>
        text.Length <= max ? text : string.Concat(text.AsSpan(0, max), $"... ({text.Length} characters)");
}
