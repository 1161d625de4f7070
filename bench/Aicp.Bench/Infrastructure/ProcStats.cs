using System.Globalization;

namespace Aicp.Bench.Infrastructure;

/// <summary>
/// CPU time, memory and scheduling counters of a process from /proc (Linux). <see cref="ContextSwitches"/> sums the
/// live threads' voluntary and involuntary switches (a thread that exited takes its count with it);
/// <see cref="ReadCalls"/> and <see cref="WriteCalls"/> are /proc/[pid]/io's syscr and syscw (read- and write-family
/// calls on files and pipes; socket sends and receives are not among them).
/// </summary>
internal readonly record struct ProcStats(double UserSeconds, double SystemSeconds, long RssKb, long PeakRssKb, long ContextSwitches = 0,
    long ReadCalls = 0, long WriteCalls = 0)
{
    /// <summary>USER_HZ: the unit of utime/stime in /proc/[pid]/stat; 100 on every mainstream Linux build.</summary>
    private const double ClockTicksPerSecond = 100;

    public double CpuSeconds => UserSeconds + SystemSeconds;

    public double RssMb => RssKb / 1024.0;

    public double PeakRssMb => PeakRssKb / 1024.0;

    public static ProcStats Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which is in parentheses and may contain spaces).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var system = long.Parse(fields[12], CultureInfo.InvariantCulture);
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Number(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Number(line);
            }
        }

        return new ProcStats(user / ClockTicksPerSecond, system / ClockTicksPerSecond, rss, hwm, ContextSwitchesOf(pid),
            IoCounter(pid, "syscr:"), IoCounter(pid, "syscw:"));
    }

    private static long ContextSwitchesOf(int pid)
    {
        long switches = 0;
        foreach (var thread in SafeEnumerate($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(thread, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                        || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        switches += Number(line);
                    }
                }
            }
            catch (IOException)
            {
                // the thread exited while being read
            }
        }

        return switches;
    }

    private static IEnumerable<string> SafeEnumerate(string directory)
    {
        try
        {
            return Directory.GetDirectories(directory);
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static long IoCounter(int pid, string name)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                if (line.StartsWith(name, StringComparison.Ordinal))
                {
                    return Number(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // /proc/[pid]/io needs the same user (or ptrace rights); without it the counters read 0
        }

        return 0;
    }

    private static long Number(string line) =>
        long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
