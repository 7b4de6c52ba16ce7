// These tests need Linux: the agent as a process, signals, Unix file modes (the tokens file), Debian's chromium.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
