namespace Motey.TestVal;

/// <summary>
/// Would work on this agent member for member, but is compiled against Motey.Abstractions 0.0.1 (contract/):
/// the agent must refuse it at load for its contract version, not let it fail at a later call.
/// </summary>
public sealed class OtherContractVal : TestValBase
{
    public override string PluginType => "othercontract";
}
