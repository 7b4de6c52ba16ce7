using System.Text;

namespace Motey.Tests.Shared;

/// <summary>A blueprint or selector as the body of a request: the YAML as UTF-8, Content-Type application/x-yaml.</summary>
internal static class YamlBody
{
    public static StringContent Of(string yaml)
    {
        var content = new StringContent(yaml, Encoding.UTF8);
        content.Headers.ContentType = new("application/x-yaml");
        return content;
    }
}
