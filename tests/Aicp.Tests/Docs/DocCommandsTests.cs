using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>
/// Every command in README.md and docs/ is run: .ci/checks/docs-commands.sh lists each with how (as documented, in a
/// reduced form, or by a named test). These tests keep that list and the documents in step.
/// </summary>
public sealed partial class DocCommandsTests
{
    private const string Manifest = ".ci/checks/docs-commands.sh";

    /// <summary>Commands CI runs in another form than the documented one, with the reason; all others keep program, subcommand and options.</summary>
    private static readonly Dictionary<string, string> OtherForms = new(StringComparer.Ordinal)
    {
        ["docker-compose up --build"] = "no Docker engine on CI machines: the compose file is validated",
        ["docker-compose up"] = "no Docker engine on CI machines: the compose file is validated",
        ["docker-compose --profile cluster up --build redis hub-1 hub-2 labelee-c1 labelee-c2"] = "no Docker engine on CI machines: the compose file's cluster profile is validated",
        ["git worktree add /tmp/before 3b2e27f && dotnet build -c Release /tmp/before/bench/Aicp.Bench"] = "builds a past commit: its presence is checked",
        ["git worktree add /tmp/before-sdk 7451f97 && git -C /tmp/before-sdk apply \"$PWD/bench/patches/e2e-typed-before-sdk.patch\""] =
            "checks out and patches a past commit: its presence and the patch applying are checked",
        ["dotnet build -c Release /tmp/before-sdk/bench/Aicp.Bench && dotnet build -c Release bench/Aicp.Bench"] = "the past commit is not built: only the current bench",
        ["dotnet run -c Release --project bench/Aicp.Bench -- <command>"] = "a placeholder for any command: the command list is printed",
        ["dotnet-counters monitor --counters Aicp.Hub"] = "the tool is installed and pointed at a running hub",
        ["dotnet run -c Release -p:OnnxRuntimeGpu=true --project src/SampleAgents -- evaluate --device cuda --bench"] =
            "the GPU build is a 284 MB restore with nothing to load without a driver: the CPU build's --device cuda must fail naming CUDA",
    };

    public sealed record Entry(string Kind, string Command, string? Argument);

    /// <summary>The commands of README.md and docs/: command blocks line by line, and inline code that starts with a program.</summary>
    public static SortedSet<string> DocumentedCommands()
    {
        var commands = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var document in Markdown.All)
        {
            foreach (var block in document.Blocks().Where(b => DocSnippetTests.KindOf(b) == DocSnippetTests.Kind.Commands))
            {
                foreach (var command in BlockCommands(block.Text))
                {
                    commands.Add(command);
                }
            }

            foreach (var code in document.ParagraphCode())
            {
                if (InlineCommand().IsMatch(code))
                {
                    commands.Add(Normalize(code.Replace("\\|", "|", StringComparison.Ordinal)));
                }
            }
        }

        return commands;
    }

    /// <summary>A block's commands: comment lines skipped, continuation lines (a trailing <c>\</c>, or indented) joined, trailing comments cut.</summary>
    internal static IEnumerable<string> BlockCommands(string text)
    {
        var current = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (current.Length > 0 && (char.IsWhiteSpace(line[0]) || current[^1] == '\\'))
            {
                current.Length -= current[^1] == '\\' ? 1 : 0;
                current.Append(' ').Append(line.Trim());
                continue;
            }

            if (current.Length > 0)
            {
                yield return Normalize(current.ToString());
            }

            current.Clear().Append(TrailingComment().Replace(line, "").TrimEnd());
        }

        if (current.Length > 0)
        {
            yield return Normalize(current.ToString());
        }
    }

    private static string Normalize(string command) => Spaces().Replace(TrailingComment().Replace(command, ""), " ").Trim();

    /// <summary>The entries of the manifest: kind, documented command and the kind's argument (what runs, the test, the text).</summary>
    public static List<Entry> Entries()
    {
        var text = File.ReadAllText(Path.Combine(ExternalTool.RepositoryRoot, Manifest)).Replace("\\\n", " ", StringComparison.Ordinal);
        var entries = new List<Entry>();
        for (var at = 0; at < text.Length; at = text.IndexOf('\n', at) is var next and >= 0 ? next + 1 : text.Length)
        {
            if (EntryStart().Match(text[at..Math.Min(text.Length, at + 20)]) is not { Success: true } start)
            {
                continue;
            }

            var (words, end) = Words(text, at + start.Length);
            entries.Add(new Entry(start.Groups[1].Value, Normalize(words[0]), words.Count > 1 ? words[1] : null));
            at = end;
        }

        return entries;
    }

    /// <summary>
    /// Shell words from <paramref name="start"/> to the end of the command (an unquoted newline or comment): single quotes,
    /// double quotes and the <c>'"'"'</c> idiom, separated by unquoted blanks. Returns the words and where the command ends.
    /// </summary>
    private static (List<string> Words, int End) Words(string text, int start)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        var i = start;
        for (; i < text.Length && text[i] != '\n'; i++)
        {
            var c = text[i];
            if (c is '\'' or '"')
            {
                var end = text.IndexOf(c, i + 1);
                word.Append(text, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else if (c == '#' && !inWord)
            {
                i = text.IndexOf('\n', i) is var eol and >= 0 ? eol : text.Length;
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return (words, i);
    }

    [Fact]
    public void Manifest_NamesEveryDocumentedCommand_AndNothingElse()
    {
        var documented = DocumentedCommands();
        var listed = new SortedSet<string>(Entries().Select(e => e.Command), StringComparer.Ordinal);

        Assert.True(documented.Count > 40, $"only {documented.Count} commands found");
        Assert.All(documented.Except(listed), c => Assert.Fail($"'{c}' is in the docs but not in {Manifest}: add how CI runs it."));
        Assert.All(listed.Except(documented), c => Assert.Fail($"'{c}' is in {Manifest} but in no document any more: remove it."));
    }

    [Fact]
    public void Manifest_TestsItNames_Exist()
    {
        var tests = typeof(DocCommandsTests).Assembly;
        foreach (var entry in Entries().Where(e => e.Kind == "by_test"))
        {
            var name = entry.Argument!;
            var type = tests.GetType(name[..name.LastIndexOf('.')]);
            var method = type?.GetMethod(name[(name.LastIndexOf('.') + 1)..], BindingFlags.Public | BindingFlags.Instance);
            Assert.True(method?.GetCustomAttributes().Any(a => a is FactAttribute) == true, $"{Manifest}: '{entry.Command}' names {name}, which is not a test");
        }
    }

    [Fact]
    public void Manifest_CommandsRunByCiRun_AreInIt()
    {
        var ciRun = File.ReadAllText(Path.Combine(ExternalTool.RepositoryRoot, ".ci/run"));

        Assert.All(Entries().Where(e => e.Kind == "by_ci_run"), e => Assert.Contains(e.Command, ciRun));
    }

    [Fact]
    public void Manifest_CommandsRunInAnotherForm_KeepProgramSubcommandAndOptions()
    {
        foreach (var entry in Entries().Where(e => e.Kind == "run_as" && !OtherForms.ContainsKey(e.Command)))
        {
            var (program, subcommand, options) = Shape(entry.Command);
            var (runProgram, runSubcommand, runOptions) = Shape(entry.Argument!);
            Assert.True((program, subcommand) == (runProgram, runSubcommand), $"'{entry.Command}' runs as '{entry.Argument}': another program or subcommand");
            Assert.True(options.IsSubsetOf(runOptions), $"'{entry.Command}' runs as '{entry.Argument}' without {string.Join(", ", options.Except(runOptions))}");
        }

        Assert.All(OtherForms.Keys, c => Assert.Contains(Entries(), e => e.Command == c && e.Kind == "run_as"));
    }

    /// <summary>The program (a project, a dll or an executable), its subcommand and its option names.</summary>
    private static (string Program, string? Subcommand, HashSet<string> Options) Shape(string command)
    {
        var tokens = Words(command, 0).Words.SkipWhile(t => Assignment().IsMatch(t)).ToList();
        var options = new HashSet<string>(Option().Matches(command).Select(m => m.Groups[1].Value), StringComparer.Ordinal);
        if (tokens is ["dotnet", "run", ..])
        {
            var separator = tokens.IndexOf("--");
            var project = tokens[tokens.IndexOf("--project") + 1];
            options.ExceptWith(["--project", "-c"]);
            options.RemoveWhere(o => tokens.IndexOf(o) is var at && at >= 0 && at < separator);
            return (project, tokens.Skip(separator + 1).FirstOrDefault(t => !t.StartsWith('-')), options);
        }

        var start = tokens is ["dotnet", var dll, ..] && dll.EndsWith(".dll", StringComparison.Ordinal) ? 1 : 0;
        var program = tokens[start].Replace("$B", "bench/Aicp.Bench/bin/Release/net10.0/Aicp.Bench", StringComparison.Ordinal).Replace(".dll", "", StringComparison.Ordinal);
        return (program, tokens.Skip(start + 1).FirstOrDefault(t => !t.StartsWith('-') && !t.Contains('=')), options);
    }

    [GeneratedRegex(@"^(dotnet |dotnet-counters |bash |docker-compose |printf |git )")]
    private static partial Regex InlineCommand();

    [GeneratedRegex(@"\s+#\s.*$")]
    private static partial Regex TrailingComment();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"^(run|run_as|run_no_gpu|by_test|by_ci_run) ")]
    private static partial Regex EntryStart();

    [GeneratedRegex(@"^[A-Z_]+=")]
    private static partial Regex Assignment();

    [GeneratedRegex(@"(?<![\w-])(--[a-z][a-z-]*)")]
    private static partial Regex Option();
}
