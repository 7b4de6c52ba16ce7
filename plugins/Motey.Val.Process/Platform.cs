// The engine is Linux's: /proc, setsid, signals. Saying so lets the platform analyzer check every call.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
