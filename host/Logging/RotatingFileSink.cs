using System.Text;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Formatting;

namespace Motey.Host.Logging;

/// <summary>
/// The log file exactly as [LOGGER] names it: events go to <c>motey.log</c>; at the size limit it becomes
/// <c>motey.log.1</c> (older ones shift to .2, .3, … and the oldest beyond the count is deleted), as Python's
/// RotatingFileHandler did for the original Motey. Serilog.Sinks.File cannot do this: it writes to a dated or
/// numbered name (motey20261130.log, motey_003.log), so no message could name the file the agent writes.
/// </summary>
internal sealed class RotatingFileSink : ILogEventSink, IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly Lock _gate = new();
    private readonly string _path;
    private readonly ITextFormatter _formatter;
    private readonly long _limitBytes;
    private readonly int _rolledFiles;
    private StreamWriter? _writer;

    /// <param name="path">The file written to, always.</param>
    /// <param name="limitBytes">Size at which the file is rolled.</param>
    /// <param name="rolledFiles">How many rolled files are kept (<c>path.1</c> … <c>path.N</c>).</param>
    public RotatingFileSink(string path, ITextFormatter formatter, long limitBytes, int rolledFiles)
    {
        _path = path;
        _formatter = formatter;
        _limitBytes = limitBytes;
        _rolledFiles = rolledFiles;
        // Opened now: a log file the agent cannot write stops the start instead of losing every line.
        _writer = Open();
    }

    /// <summary>The n-th rolled file: <c>motey.log.1</c> is the newest.</summary>
    public static string Rolled(string path, int n) => $"{path}.{n}";

    public void Emit(LogEvent logEvent)
    {
        lock (_gate)
        {
            _writer ??= Open();
            _formatter.Format(logEvent, _writer);
            _writer.Flush();
            if (_writer.BaseStream.Length >= _limitBytes) Roll();
        }
    }

    private StreamWriter Open()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        // Others may read (tail -f) and rename or delete (logrotate) the file while it is open.
        var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new StreamWriter(stream, Utf8);
    }

    private void Roll()
    {
        _writer?.Dispose();
        _writer = null;
        try
        {
            File.Delete(Rolled(_path, _rolledFiles));
            for (var n = _rolledFiles - 1; n >= 1; n--)
            {
                if (File.Exists(Rolled(_path, n))) File.Move(Rolled(_path, n), Rolled(_path, n + 1));
            }
            File.Move(_path, Rolled(_path, 1));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next event opens the file again and appends: logging goes on past the limit rather than stop.
            SelfLog.WriteLine("Could not roll {0}: {1}", _path, e.Message);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }
}
