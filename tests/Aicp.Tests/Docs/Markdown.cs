using System.Text.RegularExpressions;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>
/// Reads the repository's Markdown documents the way the docs checks need them: fenced code blocks, tables and
/// inline code spans, each with the file and line it came from.
/// </summary>
public sealed partial class Markdown
{
    private Markdown(string path, string[] lines)
    {
        Path = path;
        Lines = lines;
    }

    /// <summary>The file, relative to the repository root (e.g. <c>docs/SECURITY.md</c>).</summary>
    public string Path { get; }

    public string[] Lines { get; }

    /// <summary>README.md and every document in docs/.</summary>
    public static IReadOnlyList<Markdown> All =>
    [
        Read("README.md"),
        .. Directory.GetFiles(System.IO.Path.Combine(ExternalTool.RepositoryRoot, "docs"), "*.md").Order(StringComparer.Ordinal)
            .Select(f => Read("docs/" + System.IO.Path.GetFileName(f))),
    ];

    public static Markdown Read(string relativePath) =>
        new(relativePath, File.ReadAllLines(System.IO.Path.Combine(ExternalTool.RepositoryRoot, relativePath)));

    /// <summary>A fenced code block: its info string (<c>bash</c>, <c>csharp</c>, or empty), text and first line number.</summary>
    public sealed record Block(string File, int Line, string Info, string Text)
    {
        public override string ToString() => $"{File}:{Line} ({(Info.Length == 0 ? "plain" : Info)})";
    }

    /// <summary>A table: its header cells, its rows' cells, and the heading it sits under.</summary>
    public sealed record Table(string File, int Line, string Heading, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows);

    public IEnumerable<Block> Blocks()
    {
        for (var i = 0; i < Lines.Length; i++)
        {
            if (!Lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var info = Lines[i][3..].Trim();
            var start = i;
            var text = new List<string>();
            for (i++; i < Lines.Length && !Lines[i].StartsWith("```", StringComparison.Ordinal); i++)
            {
                text.Add(Lines[i]);
            }

            yield return new Block(Path, start + 1, info, string.Join('\n', text));
        }
    }

    public IEnumerable<Table> Tables()
    {
        var heading = "";
        var inBlock = false;
        for (var i = 0; i < Lines.Length; i++)
        {
            if (Lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (inBlock)
            {
                continue;
            }

            if (Lines[i].StartsWith('#'))
            {
                heading = Lines[i].TrimStart('#').Trim();
                continue;
            }

            if (!Lines[i].StartsWith('|') || i + 1 >= Lines.Length || !SeparatorRow().IsMatch(Lines[i + 1]))
            {
                continue;
            }

            var start = i;
            var header = Cells(Lines[i]);
            var rows = new List<IReadOnlyList<string>>();
            for (i += 2; i < Lines.Length && Lines[i].StartsWith('|'); i++)
            {
                rows.Add(Cells(Lines[i]));
            }

            yield return new Table(Path, start + 1, heading, header, rows);
            i--;
        }
    }

    /// <summary>The first table whose header's first cell is <paramref name="firstColumn"/>, under a heading containing <paramref name="heading"/> when given.</summary>
    public Table TableStartingWith(string firstColumn, string? heading = null) =>
        Tables().FirstOrDefault(t => t.Header[0] == firstColumn && (heading is null || t.Heading.Contains(heading, StringComparison.Ordinal)))
        ?? throw new Xunit.Sdk.XunitException($"{Path}: no table with first column '{firstColumn}'" + (heading is null ? "" : $" under '{heading}'"));

    /// <summary>The lines from the one starting with <paramref name="start"/> (indentation ignored) to the next blank line, joined with spaces.</summary>
    public string Paragraph(string start)
    {
        var first = Array.FindIndex(Lines, l => l.TrimStart().StartsWith(start, StringComparison.Ordinal));
        if (first < 0)
        {
            throw new Xunit.Sdk.XunitException($"{Path}: no line starts with '{start}'");
        }

        return string.Join(' ', Lines.Skip(first).TakeWhile(l => l.Trim().Length > 0).Select(l => l.Trim()));
    }

    /// <summary>The inline code spans of <paramref name="text"/> (<c>`...`</c>), without the backticks.</summary>
    public static IReadOnlyList<string> CodeSpans(string text) => [.. CodeSpan().Matches(text).Select(m => m.Groups[1].Value)];

    /// <summary>Every inline code span outside fenced blocks, with its line number.</summary>
    public IEnumerable<(int Line, string Code)> InlineCode()
    {
        var inBlock = false;
        for (var i = 0; i < Lines.Length; i++)
        {
            if (Lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (!inBlock)
            {
                foreach (var code in CodeSpans(Lines[i]))
                {
                    yield return (i + 1, code);
                }
            }
        }
    }

    /// <summary>
    /// Every inline code span outside fenced blocks, read paragraph by paragraph (a span may run over a line break,
    /// which becomes a space); table rows are read one by one.
    /// </summary>
    public IEnumerable<string> ParagraphCode()
    {
        var paragraph = new List<string>();
        var inBlock = false;
        foreach (var line in Lines.Append(""))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (inBlock)
            {
                continue;
            }

            if (line.Trim().Length == 0 || line.StartsWith('|') || line.StartsWith('#'))
            {
                foreach (var code in CodeSpans(string.Join(' ', paragraph.Select(l => l.Trim()))))
                {
                    yield return code;
                }

                paragraph.Clear();
                if (line.StartsWith('|'))
                {
                    foreach (var code in CodeSpans(line))
                    {
                        yield return code;
                    }
                }

                continue;
            }

            paragraph.Add(line);
        }
    }

    private static List<string> Cells(string row)
    {
        // Split on pipes that are not escaped (\|) and not inside a code span.
        var cells = new List<string>();
        var current = new System.Text.StringBuilder();
        var inCode = false;
        var body = row.Trim();
        body = body[1..(body.EndsWith('|') ? ^1 : ^0)];
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == '\\' && i + 1 < body.Length && body[i + 1] == '|')
            {
                current.Append('|');
                i++;
            }
            else if (c == '`')
            {
                inCode = !inCode;
                current.Append(c);
            }
            else if (c == '|' && !inCode)
            {
                cells.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        cells.Add(current.ToString().Trim());
        return cells;
    }

    [GeneratedRegex(@"^\|(\s*:?-+:?\s*\|)+\s*$")]
    private static partial Regex SeparatorRow();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex CodeSpan();
}
