using System.Runtime.CompilerServices;
using Motey.Host.Peers;

namespace Motey.Host.Tests.Infrastructure;

/// <summary>
/// NetMQ's socket limit is fixed when the process makes its first socket, and every test of this assembly shares the
/// process: raised here, before any test, the way the agent raises it at start (tests bind and connect well over 1,024).
/// </summary>
internal static class NetMqSetup
{
#pragma warning disable CA2255 // a test assembly's own setup: nothing else runs early enough
    [ModuleInitializer]
    internal static void RaiseSocketLimit() => NetMqLimits.Raise();
#pragma warning restore CA2255
}
