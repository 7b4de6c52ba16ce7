using System.Diagnostics.CodeAnalysis;

namespace Motey.Host.Parsing;

/// <summary>The outcome of parsing an input: a value, or every error found in it.</summary>
/// <param name="Value">The parsed value; null when there are errors.</param>
/// <param name="Errors">Everything wrong with the input; empty when it was accepted.</param>
public sealed record ParseResult<T>(T? Value, IReadOnlyList<InputError> Errors)
{
    /// <summary>True when the input was accepted; <see cref="Value"/> is then set.</summary>
    [MemberNotNullWhen(true, nameof(Value))]
    public bool Ok => Errors.Count == 0 && Value is not null;

    /// <summary>An accepted input.</summary>
    public static ParseResult<T> Success(T value) => new(value, []);

    /// <summary>A refused input; <paramref name="errors"/> must not be empty.</summary>
    public static ParseResult<T> Failure(IReadOnlyList<InputError> errors) =>
        errors.Count > 0 ? new(default, errors) : throw new ArgumentException("A failure needs at least one error.", nameof(errors));

    /// <summary>A refused input with a single error.</summary>
    public static ParseResult<T> Failure(string where, string message) => new(default, [new InputError(where, message)]);
}
