namespace Motey.Val.Docker;

/// <summary>Labels the Docker VAL puts on every container it creates, beside the agent's own (<c>motey.service.id</c>, ...).</summary>
internal static class ManagedLabels
{
    /// <summary><c>true</c> on every container of this VAL: how it tells its containers from anyone else's.</summary>
    public const string Managed = "motey.managed";

    /// <summary>The image reference as the blueprint wrote it (the engine's own field holds the resolved one).</summary>
    public const string ImageName = "motey.image.name";

    /// <summary>Labels starting with this belong to the agent and this VAL; a blueprint cannot set them.</summary>
    public const string ReservedPrefix = "motey.";

    /// <summary>The engine's list filter that selects this VAL's containers.</summary>
    public const string ManagedFilter = Managed + "=true";
}
