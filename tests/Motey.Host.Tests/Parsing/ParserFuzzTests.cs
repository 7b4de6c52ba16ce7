using Motey.Host.Parsing;

namespace Motey.Host.Tests.Parsing;

/// <summary>Mutated and truncated inputs must give errors, never exceptions; an error's line and column are the place its text names.</summary>
public class ParserFuzzTests
{
    private const string Json = """[{"capability": "gpu", "capability_type": "hardware"}, {"capability": "alpine", "capability_type": "api"}]""";

    // Most of YAML's syntax in a few lines, so mutations reach the corners of the scanner.
    private const string Exotic = "a: &x [1, {b: *x}]\nc: !!str 'q'\nd: |\n  text\ne: >-\n  more\n? complex\n: \"dq\\n\"\n- [a, {b: c}]\n%YAML 1.2\n---\n...\n";

    // Characters that matter to YAML or JSON, plus some that must be refused.
    private static readonly char[] Noise = ":-[]{}&*!|>'\"%@`#,?\t\n\r \\.~0x\0\u0001\u0085\uFEFF\uD800".ToCharArray();

    public static TheoryData<int> Seeds() => new(Enumerable.Range(0, 4));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void No_mutated_blueprint_makes_the_parsers_throw(int seed)
    {
        foreach (var input in Mutations(Blueprints.Example, new Random(seed), 50))
        {
            AssertAnswers(BlueprintParser.Parse(input).Errors, input);
            AssertAnswers(ServiceSelectorParser.Parse(input).Errors, input);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void No_mutated_yaml_with_anchors_tags_and_block_scalars_makes_the_parser_throw(int seed)
    {
        foreach (var input in Mutations(Exotic, new Random(seed), 50))
            AssertAnswers(BlueprintParser.Parse(input).Errors, input);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void No_mutated_capability_list_makes_the_parser_throw(int seed)
    {
        foreach (var input in Mutations(Json, new Random(seed), 50))
            AssertAnswers(CapabilityListParser.Parse(input).Errors, input);
    }

    [Fact]
    public void Every_truncation_of_the_example_is_answered()
    {
        for (var length = 0; length < Blueprints.Example.Length; length++)
            AssertAnswers(BlueprintParser.Parse(Blueprints.Example[..length]).Errors, Blueprints.Example[..length]);
    }

    private static void AssertAnswers(IReadOnlyList<InputError> errors, string input) =>
        Assert.All(errors, e =>
        {
            Assert.False(string.IsNullOrEmpty(e.Message), $"empty message for input: {input}");
            Assert.True(NamedPosition(e) == (e.Line, e.Column), $"{e} carries line {e.Line}, column {e.Column}; input: {input}");
        });

    /// <summary>The place the error's text names (its where, or the end of its message), or nulls when it names none.</summary>
    private static (long?, long?) NamedPosition(InputError error)
    {
        var named = System.Text.RegularExpressions.Regex.Match(error.Where, @"^line (\d+), column (\d+)$") is { Success: true } where ? where
            : System.Text.RegularExpressions.Regex.Match(error.Message, @"\(line (\d+), column (\d+)\)$");
        return named.Success ? (long.Parse(named.Groups[1].Value), long.Parse(named.Groups[2].Value)) : (null, null);
    }

    /// <summary>Up to 12 characters from anywhere in <paramref name="text"/>, to repeat somewhere else.</summary>
    private static string Piece(string text, Random random)
    {
        var start = random.Next(text.Length);
        return text.Substring(start, Math.Min(12, text.Length - start));
    }

    private static IEnumerable<string> Mutations(string valid, Random random, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var text = valid;
            for (var edits = random.Next(1, 4); edits > 0 && text.Length > 0; edits--)
            {
                var at = random.Next(text.Length);
                text = random.Next(5) switch
                {
                    0 => text[..at], // truncated
                    1 => text.Remove(at, 1),
                    2 => text.Insert(at, Noise[random.Next(Noise.Length)].ToString()),
                    3 => text.Insert(at, Piece(text, random)),
                    _ => string.Concat(text.AsSpan(0, at), Noise[random.Next(Noise.Length)].ToString(), text.AsSpan(at + 1)),
                };
            }
            yield return text;
        }
    }
}
