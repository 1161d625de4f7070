namespace Aicp.Protocol;

/// <summary>
/// The grammar of method (capability) names and agent ids: <c>^[a-z0-9][a-z0-9._-]{0,127}$</c>.
/// Lower case only, so two spellings never name two capabilities; at most 128 characters.
/// </summary>
public static class Names
{
    /// <summary>Longest name: 128 characters.</summary>
    public const int MaxLength = 128;

    /// <summary>True when <paramref name="name"/> follows the grammar.</summary>
    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        if (!IsAlnum(name[0]))
        {
            return false;
        }

        foreach (var c in name.AsSpan(1))
        {
            if (!IsAlnum(c) && c != '.' && c != '_' && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
