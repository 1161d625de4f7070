using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Security;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Hosting;

/// <summary>
/// Checks the whole configuration before anything is built from it, so that a user sees every problem at once:
/// <list type="number">
/// <item>values that do not convert to their setting's type (the configuration binder stops at the first, and its
/// exception names only that one): each leaf key is matched to the property it binds to and converted the way the
/// binder converts it;</item>
/// <item>every options validator (<see cref="AicpHubOptions"/>, <see cref="ObservabilityOptions"/>,
/// <see cref="AicpSecurityOptions"/>): through the options factory, so configuration done in code counts, or, for a
/// type with a value that did not convert, on options bound without those values;</item>
/// <item>the listen addresses against the security settings (<see cref="ListenAddressGuard"/>).</item>
/// </list>
/// The options validators stay registered with <c>ValidateOnStart</c> for hosts that build the services themselves.
/// </summary>
internal static class HubConfigurationCheck
{
    private static readonly (Type Type, string Section)[] Sections =
    [
        (typeof(AicpHubOptions), AicpHubOptions.SectionName),
        (typeof(ObservabilityOptions), AicpHubOptions.SectionName),
        (typeof(AicpSecurityOptions), AicpSecurityOptions.SectionName),
    ];

    /// <summary>Throws <see cref="AicpConfigurationException"/> listing every problem, or returns when there is none.</summary>
    public static void ThrowIfInvalid(IServiceProvider services, IConfiguration configuration)
    {
        if (Problems(services, configuration) is { Count: > 0 } problems)
        {
            throw new AicpConfigurationException(problems);
        }
    }

    public static IReadOnlyList<string> Problems(IServiceProvider services, IConfiguration configuration)
    {
        var problems = new List<string>();
        var unconvertible = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var partlyBound = new HashSet<Type>();
        foreach (var (type, section) in Sections)
        {
            foreach (var (key, value, target) in Leaves(configuration, type, section))
            {
                if (!Converts(target, value))
                {
                    partlyBound.Add(type);
                    if (unconvertible.Add(key))
                    {
                        problems.Add($"{key}: '{value}' is not {Describe(target)}.");
                    }
                }
            }
        }

        var filtered = unconvertible.Count == 0
            ? configuration
            : new ConfigurationBuilder().AddInMemoryCollection(configuration.AsEnumerable().Where(kv => !unconvertible.Contains(kv.Key))).Build();
        Validate<AicpHubOptions>(services, filtered, AicpHubOptions.SectionName, partlyBound, problems);
        Validate<ObservabilityOptions>(services, filtered, AicpHubOptions.SectionName, partlyBound, problems);
        var security = Validate<AicpSecurityOptions>(services, filtered, AicpSecurityOptions.SectionName, partlyBound, problems);
        if (ListenAddressGuard.Refusal(ListenAddressGuard.ConfiguredAddresses(configuration), security) is { } refusal)
        {
            problems.Add(refusal);
        }

        return problems;
    }

    /// <summary>
    /// The type a configuration key (e.g. <c>Aicp:Security:ApiKeys:0:Roles:0</c>) binds to in the hub's settings; null for
    /// a key no setting binds (a typo, or a section such as <c>Logging</c> the hub does not own).
    /// </summary>
    internal static Type? SettingType(string key)
    {
        foreach (var (type, section) in Sections)
        {
            var prefix = section + ConfigurationPath.KeyDelimiter;
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && TargetType(type, key[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)) is { } target)
            {
                return target;
            }
        }

        return null;
    }

    /// <summary>Validates one options type, adding its failures; returns the options as bound (for the checks across types).</summary>
    private static T Validate<T>(IServiceProvider services, IConfiguration configuration, string section, HashSet<Type> partlyBound, List<string> problems)
        where T : class, new()
    {
        if (!partlyBound.Contains(typeof(T)))
        {
            try
            {
                return services.GetRequiredService<IOptionsFactory<T>>().Create(Options.DefaultName);
            }
            catch (OptionsValidationException ex)
            {
                problems.AddRange(ex.Failures);
                return new T();
            }
        }

        // Some value of this type did not convert: the factory would stop at it. Bind the rest and validate that.
        var options = new T();
        configuration.GetSection(section).Bind(options);
        foreach (var validator in services.GetServices<IValidateOptions<T>>())
        {
            if (validator.Validate(Options.DefaultName, options) is { Failed: true, Failures: { } failures })
            {
                problems.AddRange(failures);
            }
        }

        return options;
    }

    /// <summary>Each configured value under <paramref name="section"/> that binds to a property of <paramref name="type"/>, with the type it binds to.</summary>
    private static IEnumerable<(string Key, string Value, Type Target)> Leaves(IConfiguration configuration, Type type, string section)
    {
        var prefix = section + ConfigurationPath.KeyDelimiter;
        foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
        {
            if (value is null || !key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (TargetType(type, key[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)) is { } target)
            {
                yield return (key, value, target);
            }
        }
    }

    /// <summary>The type a key path binds to within <paramref name="type"/> (properties, list indexes, dictionary keys); null when nothing binds it.</summary>
    private static Type? TargetType(Type type, string[] path)
    {
        foreach (var segment in path)
        {
            if (Generic(type, typeof(IDictionary<,>)) is { } dictionary)
            {
                type = dictionary[1];
            }
            else if (type != typeof(string) && Generic(type, typeof(IEnumerable<>)) is { } list)
            {
                if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return null;
                }

                type = list[0];
            }
            else if (type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { CanWrite: true } property)
            {
                type = property.PropertyType;
            }
            else
            {
                return null;
            }
        }

        return type;
    }

    private static Type[]? Generic(Type type, Type definition) =>
        (type.IsGenericType && type.GetGenericTypeDefinition() == definition ? type : null)?.GetGenericArguments()
        ?? type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition)?.GetGenericArguments();

    /// <summary>Whether the binder converts <paramref name="value"/> to <paramref name="type"/> (what it does: the type's converter, invariant culture).</summary>
    private static bool Converts(Type type, string value)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            if (value.Length == 0)
            {
                return true;
            }

            type = underlying;
        }

        var converter = TypeDescriptor.GetConverter(type);
        if (type == typeof(string) || type == typeof(object) || !converter.CanConvertFrom(typeof(string)))
        {
            return true; // strings, and complex types the binder fills from child keys
        }

        try
        {
            converter.ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(int) => "a whole number (32-bit)",
            _ when type == typeof(long) => "a whole number",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(TimeSpan) => "a duration such as 00:00:30",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a date and time such as 2027-01-31T00:00:00Z",
            { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ => $"a {type.Name}",
        };
    }
}
