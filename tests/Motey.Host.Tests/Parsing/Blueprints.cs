namespace Motey.Host.Tests.Parsing;

/// <summary>Blueprints the parsing tests start from.</summary>
internal static class Blueprints
{
    /// <summary>The blueprint of SPEC §3, as the seed documents it.</summary>
    public const string Example = """
        service_name: first_service        # required, string
        node_type: master                  # optional string
        images:                            # required, >= 1 unique items
        - name: alpine                     # required
          engine: docker                   # required: the VAL type
          parameters: {ports: {80/tcp: 8080}, name: alpine_from_motey}   # optional map
          capabilities: [alpine]           # optional, >= 1 unique strings when present
        """;

    /// <summary>A minimal valid blueprint whose single image is <paramref name="image"/> (flow-style mapping body).</summary>
    public static string WithImage(string image) => $"service_name: s\nimages:\n- {{{image}}}\n";
}
