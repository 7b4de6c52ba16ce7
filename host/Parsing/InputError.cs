namespace Motey.Host.Parsing;

/// <summary>One thing wrong with an input: where it is and what is wrong.</summary>
/// <param name="Where">
/// <c>line 3, column 5</c> for a syntax error; otherwise the path of the offending value,
/// e.g. <c>images[0].capabilities[1]</c> (YAML) or <c>$[2].capability_type</c> (JSON).
/// </param>
/// <param name="Message">What is wrong, for a human; ends with <c>(line L, column C)</c> when the position is known.</param>
public sealed record InputError(string Where, string Message)
{
    /// <summary>The 1-based line of the error in the input, when known (the same place the text names).</summary>
    public long? Line { get; init; }

    /// <summary>The 1-based column (in characters) of the error in the input, when known.</summary>
    public long? Column { get; init; }

    /// <summary>An error at <paramref name="at"/>, its position also as data, so a client need not read it out of the text.</summary>
    internal static InputError At(string where, string message, TextPosition? at) =>
        new(where, message) { Line = at?.Line, Column = at?.Column };

    /// <inheritdoc/>
    public override string ToString() => $"{Where}: {Message}";
}
