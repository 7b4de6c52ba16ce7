// The process VAL and these tests need Linux: /proc, setsid, signals.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
