using System.Globalization;
using System.Text;

namespace Aicp.Hub.Observability;

/// <summary>Pieces of the Prometheus text exposition format 0.0.4: names, escaping and numbers.</summary>
internal static class PrometheusTextFormat
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>A metric or label name: characters outside <c>[a-zA-Z0-9_:]</c> become <c>_</c> (colons only in metric names).</summary>
    public static string Name(string name, bool allowColon = true)
    {
        var builder = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (c is >= '0' and <= '9' && i > 0) || (allowColon && c == ':');
            builder.Append(ok ? c : '_');
        }

        return builder.ToString();
    }

    /// <summary>Escapes a label value: backslash, double quote and line feed.</summary>
    public static void AppendLabelValue(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '"': builder.Append("\\\""); break;
                case '\n': builder.Append(@"\n"); break;
                default: builder.Append(c); break;
            }
        }
    }

    /// <summary>Escapes HELP text: backslash and line feed.</summary>
    public static string Help(string text) => text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
