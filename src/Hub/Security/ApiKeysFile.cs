namespace Aicp.Hub.Security;

/// <summary>
/// Reads <see cref="AicpSecurityOptions.KeysFile"/>: <c>{"ApiKeys":[...]}</c>, each key in the shape of
/// <c>Aicp:Security:ApiKeys:N</c>, bound by the configuration binder so both places read alike. The hub reads the file
/// itself rather than adding it to the configuration: a configuration file that fails to parse on reload turns into an
/// empty one, which here would revoke every key; this reader reports the error instead, and the keys in use stay.
/// </summary>
internal static class ApiKeysFile
{
    /// <summary>The keys in the file, or null with <paramref name="error"/> when it cannot be read or parsed.</summary>
    public static List<ApiKeyOptions>? Read(string path, out string? error)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var file = new ConfigurationBuilder().AddJsonStream(stream).Build();
            var keys = new List<ApiKeyOptions>();
            file.GetSection(nameof(AicpSecurityOptions.ApiKeys)).Bind(keys);
            error = null;
            return keys;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidDataException
                                       or InvalidOperationException or System.Text.Json.JsonException)
        {
            error = $"{path}: {ex.Message}";
            return null;
        }
    }
}
