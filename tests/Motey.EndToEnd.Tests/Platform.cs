// These tests need Linux: /proc, signals, Unix file modes (secret files), network namespaces.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
