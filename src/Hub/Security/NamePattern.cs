namespace Aicp.Hub.Security;

/// <summary>
/// A glob over names: <c>*</c> matches any run of characters (also none), <c>?</c> exactly one; everything
/// else matches itself. Names are short (at most 128 characters), so the classic two-pointer match with
/// one backtrack point is linear enough and needs no regex engine.
/// </summary>
internal static class NamePattern
{
    /// <summary>Pattern grammar: name characters plus the two wildcards, 1..128 characters.</summary>
    public static bool IsValid(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern) || pattern.Length > Aicp.Protocol.Names.MaxLength)
        {
            return false;
        }

        foreach (var c in pattern)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' or '*' or '?'))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Matches(string pattern, string name)
    {
        int p = 0, n = 0, star = -1, resume = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == name[n]))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>True when <paramref name="patterns"/> is empty (unbound) or one of them matches.</summary>
    public static bool AnyMatches(IReadOnlyList<string> patterns, string name)
    {
        if (patterns.Count == 0)
        {
            return true;
        }

        foreach (var pattern in patterns)
        {
            if (Matches(pattern, name))
            {
                return true;
            }
        }

        return false;
    }
}
