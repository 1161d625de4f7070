using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Agent.Sdk.Serialization;

/// <summary>
/// Writes and reads .NET values as MessagePack under System.Text.Json's contract: property names, ignore rules,
/// required members and constructors come from the <see cref="JsonSerializerOptions"/>' metadata
/// (<see cref="JsonTypeInfo"/>), so a payload has the same keys on both wire protocols and a JSON peer's payload
/// (converted to MessagePack by the hub) binds as it would from JSON. The MessagePack library has no naming policy,
/// which is why its own object resolvers are not used for user types.
/// </summary>
/// <remarks>
/// Written natively: strings, booleans, integers, floating-point numbers, objects, lists and arrays, string-keyed
/// dictionaries, <see cref="TaskPayload"/> and <see cref="JsonElement"/> values, and byte buffers (<c>byte[]</c>,
/// <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>Memory&lt;byte&gt;</c>, <c>ArraySegment&lt;byte&gt;</c>) as <c>bin</c> at any
/// depth; a byte buffer also reads from a base64 string (what a JSON peer sends). Every other value (dates, enums,
/// decimals, types with converters or polymorphism) is written as its System.Text.Json form converted to MessagePack,
/// and read back through System.Text.Json, so it has the form a JSON peer expects. Thread-safe; codecs are cached per type.
/// </remarks>
internal sealed class MessagePackContract
{
    private readonly ConcurrentDictionary<Type, Codec> _codecs = new();

    public MessagePackContract(JsonSerializerOptions options)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        Options = options;
    }

    public JsonSerializerOptions Options { get; }

    public void Write(ref MessagePackWriter writer, object? value, Type type) => Write(ref writer, value, type, depth: 0);

    public object? Read(ref MessagePackReader reader, Type type) => Read(ref reader, type, depth: 0);

    private void Write(ref MessagePackWriter writer, object? value, Type type, int depth)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        if (depth > Options.EffectiveMaxDepth())
        {
            throw new JsonException($"The value nests deeper than {Options.EffectiveMaxDepth()} levels (a cycle?).");
        }

        CodecFor(type).Write(this, ref writer, value, depth);
    }

    private object? Read(ref MessagePackReader reader, Type type, int depth)
    {
        if (reader.TryReadNil())
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null
                ? throw new JsonException($"A null cannot be read as {type.Name}.")
                : null;
        }

        return CodecFor(type).Read(this, ref reader, depth);
    }

    private Codec CodecFor(Type type) => _codecs.GetOrAdd(type, static (t, self) => self.Create(t), this);

    private Codec Create(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return CodecFor(underlying);
        }

        if (ScalarCodec.TryCreate(type, Options) is { } scalar)
        {
            return scalar;
        }

        if (NumberArrayCodec.TryCreate(type) is { } numbers)
        {
            return numbers;
        }

        if (type == typeof(TaskPayload) || type == typeof(JsonElement))
        {
            return new PayloadCodec(type);
        }

        if (type == typeof(object))
        {
            return new JsonFormCodec(type);
        }

        var info = Options.GetTypeInfo(type);
        return info.Kind switch
        {
            JsonTypeInfoKind.Object when ObjectCodec.TryCreate(info) is { } objectCodec => objectCodec,
            JsonTypeInfoKind.Enumerable when ListCodec.TryCreate(info) is { } listCodec => listCodec,
            JsonTypeInfoKind.Dictionary when DictionaryCodec.TryCreate(info) is { } dictionaryCodec => dictionaryCodec,
            _ => new JsonFormCodec(type),
        };
    }

    private abstract class Codec
    {
        public abstract void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth);

        public abstract object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth);
    }

    /// <summary>Strings, booleans, numbers and byte buffers, read and written directly.</summary>
    private sealed class ScalarCodec(Type type, bool numbersFromStrings) : Codec
    {
        private static readonly Type[] Types =
        [
            typeof(string), typeof(bool), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint),
            typeof(long), typeof(ulong), typeof(float), typeof(double), typeof(byte[]), typeof(ReadOnlyMemory<byte>), typeof(Memory<byte>),
            typeof(ArraySegment<byte>),
        ];

        public static ScalarCodec? TryCreate(Type type, JsonSerializerOptions options) =>
            Array.IndexOf(Types, type) >= 0 ? new ScalarCodec(type, options.NumberHandling.HasFlag(JsonNumberHandling.AllowReadingFromString)) : null;

        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            switch (value)
            {
                case string text: writer.Write(text); break;
                case bool flag: writer.Write(flag); break;
                case byte number: writer.Write(number); break;
                case sbyte number: writer.Write(number); break;
                case short number: writer.Write(number); break;
                case ushort number: writer.Write(number); break;
                case int number: writer.Write(number); break;
                case uint number: writer.Write(number); break;
                case long number: writer.Write(number); break;
                case ulong number: writer.Write(number); break;
                case float number: writer.Write(number); break;
                case double number: writer.Write(number); break;
                case byte[] bytes: writer.Write(bytes); break;
                case ReadOnlyMemory<byte> bytes: writer.Write(bytes.Span); break;
                case Memory<byte> bytes: writer.Write(bytes.Span); break;
                case ArraySegment<byte> bytes: writer.Write(bytes.AsSpan()); break;
            }
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            if (type == typeof(string))
            {
                return reader.NextMessagePackType == MessagePackType.String
                    ? reader.ReadString()
                    : throw Mismatch(reader, "a string");
            }

            if (type == typeof(bool))
            {
                return reader.NextMessagePackType == MessagePackType.Boolean ? reader.ReadBoolean() : throw Mismatch(reader, "true or false");
            }

            if (type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>) || type == typeof(ArraySegment<byte>))
            {
                var bytes = ReadBytes(ref reader);
                return type == typeof(byte[]) ? bytes
                    : type == typeof(ReadOnlyMemory<byte>) ? (object)new ReadOnlyMemory<byte>(bytes)
                    : type == typeof(Memory<byte>) ? (object)new Memory<byte>(bytes)
                    : (object)new ArraySegment<byte>(bytes);
            }

            return ReadNumber(ref reader);
        }

        private static byte[] ReadBytes(ref MessagePackReader reader) => reader.NextMessagePackType switch
        {
            MessagePackType.Binary => reader.ReadBytes()!.Value.ToArray(),
            MessagePackType.String => Convert.FromBase64String(reader.ReadString()!), // a JSON peer's bytes
            _ => throw Mismatch(reader, "bytes (bin or base64 text)"),
        };

        private object ReadNumber(ref MessagePackReader reader)
        {
            if (reader.NextMessagePackType == MessagePackType.String && numbersFromStrings)
            {
                var text = reader.ReadString()!;
                return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
            }

            if (type == typeof(float) || type == typeof(double))
            {
                return reader.NextMessagePackType is MessagePackType.Integer or MessagePackType.Float
                    ? type == typeof(float) ? (object)reader.ReadSingle() : reader.ReadDouble()
                    : throw Mismatch(reader, "a number");
            }

            // As in JSON, an integer field does not accept a number with a fraction (or any float).
            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                throw Mismatch(reader, $"an integer ({type.Name})");
            }

            if (reader.NextCode == MessagePackCode.UInt64)
            {
                var large = reader.ReadUInt64();
                return type == typeof(ulong) ? large
                    : type == typeof(long) && large <= long.MaxValue ? (long)large
                    : throw new JsonException($"{large} does not fit {type.Name}.");
            }

            var value = reader.ReadInt64();
            try
            {
                return Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                throw new JsonException($"{value} does not fit {type.Name}.");
            }
        }
    }

    /// <summary>A <see cref="TaskPayload"/> or <see cref="JsonElement"/>: the MessagePack value as it is.</summary>
    private sealed class PayloadCodec(Type type) : Codec
    {
        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            var payload = value as TaskPayload ?? TaskPayload.FromJson((JsonElement)value);
            writer.WriteRaw(payload.MessagePack.Span);
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            var payload = TaskPayload.FromMessagePack(ReadValueBytes(ref reader));
            return type == typeof(TaskPayload) ? payload : payload.Json;
        }
    }

    /// <summary>Any other value: its System.Text.Json form, as MessagePack.</summary>
    private sealed class JsonFormCodec(Type type) : Codec
    {
        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            var json = JsonSerializer.SerializeToElement(value, type == typeof(object) ? value.GetType() : type, contract.Options);
            writer.WriteRaw(TaskPayload.FromJson(json).MessagePack.Span);
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth) =>
            TaskPayload.FromMessagePack(ReadValueBytes(ref reader)).Json.Deserialize(type, contract.Options);
    }

    /// <summary>An object, by its System.Text.Json properties: a map of their JSON names.</summary>
    private sealed class ObjectCodec : Codec
    {
        private readonly JsonTypeInfo _info;
        private readonly Member[] _members;
        private readonly Dictionary<string, Member> _byName;
        private readonly ConstructorInfo? _constructor;
        private readonly ParameterInfo[] _parameters;

        private ObjectCodec(JsonTypeInfo info, ConstructorInfo? constructor)
        {
            _info = info;
            _constructor = constructor;
            _parameters = constructor?.GetParameters() ?? [];
            _members = [.. info.Properties.Select((p, i) => new Member(p, i))];
            _byName = new Dictionary<string, Member>(info.Options.PropertyNameCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            foreach (var member in _members)
            {
                _byName.TryAdd(member.Property.Name, member);
            }
        }

        public static ObjectCodec? TryCreate(JsonTypeInfo info)
        {
            // What System.Text.Json handles in ways a plain map cannot mirror goes through the JSON form instead.
            if (info.PolymorphismOptions is not null || info.Properties.Any(p => p.IsExtensionData || p.CustomConverter is not null || p.NumberHandling is not null))
            {
                return null;
            }

            if (info.CreateObject is not null)
            {
                return new ObjectCodec(info, constructor: null);
            }

            return info.ConstructorAttributeProvider is ConstructorInfo { IsPublic: true } constructor
                && info.Properties.Where(p => p.AssociatedParameter is not null).All(p => p.AssociatedParameter!.Position < constructor.GetParameters().Length)
                ? new ObjectCodec(info, constructor)
                : null;
        }

        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            var values = ArrayPool<object?>.Shared.Rent(_members.Length);
            try
            {
                var count = 0;
                for (var i = 0; i < _members.Length; i++)
                {
                    var member = _members[i];
                    values[i] = member.Property.Get is { } get ? get(value) : null;
                    if (member.Written(value, values[i], contract.Options))
                    {
                        count++;
                    }
                }

                writer.WriteMapHeader(count);
                for (var i = 0; i < _members.Length; i++)
                {
                    var member = _members[i];
                    if (member.Written(value, values[i], contract.Options))
                    {
                        writer.Write(member.Property.Name);
                        contract.Write(ref writer, values[i], member.Property.PropertyType, depth + 1);
                    }
                }
            }
            finally
            {
                Array.Clear(values, 0, _members.Length);
                ArrayPool<object?>.Shared.Return(values);
            }
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                throw Mismatch(reader, $"an object ({_info.Type.Name})");
            }

            var count = reader.ReadMapHeader();
            var arguments = _constructor is null ? null : new object?[_parameters.Length];
            var assigned = arguments is null ? null : new bool[_parameters.Length];
            var seen = new bool[_members.Length];
            object? target = _info.CreateObject?.Invoke();
            List<(Member Member, object? Value)>? later = null;
            for (var i = 0; i < count; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.String || !_byName.TryGetValue(reader.ReadString()!, out var member))
                {
                    if (reader.NextMessagePackType != MessagePackType.String)
                    {
                        reader.Skip(); // a key that is not a name
                    }

                    reader.Skip(); // a member this type does not have
                    continue;
                }

                var value = contract.Read(ref reader, member.Property.PropertyType, depth + 1);
                seen[member.Index] = true;
                if (member.Property.AssociatedParameter is { Position: var position } && arguments is not null)
                {
                    arguments[position] = value;
                    assigned![position] = true;
                }
                else if (member.Property.Set is { } set)
                {
                    if (target is not null)
                    {
                        set(target, value);
                    }
                    else
                    {
                        (later ??= []).Add((member, value));
                    }
                }
            }

            for (var i = 0; i < _members.Length; i++)
            {
                if (_members[i].Property.IsRequired && !seen[i])
                {
                    throw new JsonException($"{_info.Type.Name} requires '{_members[i].Property.Name}'.");
                }
            }

            if (target is null)
            {
                for (var i = 0; i < _parameters.Length; i++)
                {
                    if (!assigned![i])
                    {
                        arguments![i] = _parameters[i].HasDefaultValue ? _parameters[i].DefaultValue
                            : _parameters[i].ParameterType.IsValueType ? Activator.CreateInstance(_parameters[i].ParameterType) : null;
                    }
                }

                target = _constructor!.Invoke(arguments);
                foreach (var (member, value) in later ?? [])
                {
                    member.Property.Set!(target, value);
                }
            }

            return target;
        }

        private sealed class Member(JsonPropertyInfo property, int index)
        {
            public int Index { get; } = index;

            private readonly object? _default = property.PropertyType.IsValueType ? Activator.CreateInstance(property.PropertyType) : null;

            public JsonPropertyInfo Property { get; } = property;

            public bool Written(object owner, object? value, JsonSerializerOptions options)
            {
                if (Property.Get is null)
                {
                    return false;
                }

                if (Property.ShouldSerialize is { } should)
                {
                    return should(owner, value);
                }

                return options.DefaultIgnoreCondition switch
                {
                    JsonIgnoreCondition.WhenWritingNull => value is not null,
                    JsonIgnoreCondition.WhenWritingDefault => value is not null && !value.Equals(_default),
                    _ => true,
                };
            }
        }
    }

    /// <summary>
    /// Arrays of <c>float</c>, <c>double</c>, <c>int</c> and <c>long</c> (embeddings, tensors, scores): written and read
    /// element by element without boxing.
    /// </summary>
    private sealed class NumberArrayCodec(Type element) : Codec
    {
        public static NumberArrayCodec? TryCreate(Type type) =>
            type == typeof(float[]) || type == typeof(double[]) || type == typeof(int[]) || type == typeof(long[]) ? new NumberArrayCodec(type.GetElementType()!) : null;

        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            switch (value)
            {
                case float[] floats:
                    writer.WriteArrayHeader(floats.Length);
                    foreach (var x in floats)
                    {
                        writer.Write(x);
                    }

                    break;
                case double[] doubles:
                    writer.WriteArrayHeader(doubles.Length);
                    foreach (var x in doubles)
                    {
                        writer.Write(x);
                    }

                    break;
                case int[] ints:
                    writer.WriteArrayHeader(ints.Length);
                    foreach (var x in ints)
                    {
                        writer.Write(x);
                    }

                    break;
                case long[] longs:
                    writer.WriteArrayHeader(longs.Length);
                    foreach (var x in longs)
                    {
                        writer.Write(x);
                    }

                    break;
            }
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw Mismatch(reader, $"an array of {element.Name}");
            }

            var count = reader.ReadArrayHeader();
            if (element == typeof(float) || element == typeof(double))
            {
                var floats = element == typeof(float) ? new float[count] : null;
                var doubles = floats is null ? new double[count] : null;
                for (var i = 0; i < count; i++)
                {
                    if (reader.NextMessagePackType is not (MessagePackType.Float or MessagePackType.Integer))
                    {
                        throw Mismatch(reader, "a number");
                    }

                    if (floats is not null)
                    {
                        floats[i] = reader.ReadSingle();
                    }
                    else
                    {
                        doubles![i] = reader.ReadDouble();
                    }
                }

                return (object?)floats ?? doubles;
            }

            // Integers, checked as an integer field is: no fraction, in range.
            var ints = element == typeof(int) ? new int[count] : null;
            var longs = ints is null ? new long[count] : null;
            for (var i = 0; i < count; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.Integer)
                {
                    throw Mismatch(reader, $"an integer ({element.Name})");
                }

                var value = reader.NextCode == MessagePackCode.UInt64 && reader.CreatePeekReader().ReadUInt64() > long.MaxValue
                    ? throw new JsonException($"An integer does not fit {element.Name}.")
                    : reader.ReadInt64();
                if (ints is not null)
                {
                    ints[i] = value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new JsonException($"{value} does not fit Int32.");
                }
                else
                {
                    longs![i] = value;
                }
            }

            return (object?)ints ?? longs;
        }
    }

    /// <summary>Arrays, lists and the list interfaces: a MessagePack array.</summary>
    private sealed class ListCodec(Type type, Type element) : Codec
    {
        public static ListCodec? TryCreate(JsonTypeInfo info)
        {
            var element = info.ElementType!;
            var type = info.Type;
            var list = typeof(List<>).MakeGenericType(element);
            return type == element.MakeArrayType() || type.IsAssignableFrom(list) && (type == list || type.IsInterface) ? new ListCodec(type, element) : null;
        }

        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            var items = value as System.Collections.ICollection ?? ((System.Collections.IEnumerable)value).Cast<object?>().ToList();
            writer.WriteArrayHeader(items.Count);
            foreach (var item in items)
            {
                contract.Write(ref writer, item, element, depth + 1);
            }
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                throw Mismatch(reader, $"an array of {element.Name}");
            }

            var count = reader.ReadArrayHeader();
            var array = Array.CreateInstance(element, count);
            for (var i = 0; i < count; i++)
            {
                array.SetValue(contract.Read(ref reader, element, depth + 1), i);
            }

            return type.IsArray ? array : Activator.CreateInstance(typeof(List<>).MakeGenericType(element), array);
        }
    }

    /// <summary>Dictionaries with string keys: a MessagePack map.</summary>
    private sealed class DictionaryCodec(Type element) : Codec
    {
        public static DictionaryCodec? TryCreate(JsonTypeInfo info)
        {
            if (info.KeyType != typeof(string))
            {
                return null;
            }

            var dictionary = typeof(Dictionary<,>).MakeGenericType(typeof(string), info.ElementType!);
            return info.Type == dictionary || info.Type.IsInterface && info.Type.IsAssignableFrom(dictionary) ? new DictionaryCodec(info.ElementType!) : null;
        }

        public override void Write(MessagePackContract contract, ref MessagePackWriter writer, object value, int depth)
        {
            // Dictionary<string, T> (what this codec reads into, and what callers nearly always pass) is an IDictionary.
            var entries = new List<(string Key, object? Value)>();
            if (value is System.Collections.IDictionary dictionary)
            {
                foreach (System.Collections.DictionaryEntry entry in dictionary)
                {
                    entries.Add(((string)entry.Key, entry.Value));
                }
            }
            else
            {
                foreach (var entry in (System.Collections.IEnumerable)value)
                {
                    var type = entry!.GetType();
                    entries.Add(((string)type.GetProperty("Key")!.GetValue(entry)!, type.GetProperty("Value")!.GetValue(entry)));
                }
            }

            writer.WriteMapHeader(entries.Count);
            foreach (var (key, item) in entries)
            {
                writer.Write(contract.Options.DictionaryKeyPolicy?.ConvertName(key) ?? key);
                contract.Write(ref writer, item, element, depth + 1);
            }
        }

        public override object? Read(MessagePackContract contract, ref MessagePackReader reader, int depth)
        {
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                throw Mismatch(reader, $"an object of {element.Name} values");
            }

            var dictionary = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), element))!;
            var count = reader.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                var key = reader.NextMessagePackType == MessagePackType.String ? reader.ReadString()! : ReadKeyText(ref reader);
                dictionary[key] = contract.Read(ref reader, element, depth + 1);
            }

            return dictionary;
        }

        private static string ReadKeyText(ref MessagePackReader reader) =>
            reader.NextMessagePackType == MessagePackType.Integer
                ? reader.ReadInt64().ToString(CultureInfo.InvariantCulture)
                : throw Mismatch(reader, "a string key");
    }

    /// <summary>The bytes of the next value (one MessagePack value, skipped).</summary>
    private static ReadOnlyMemory<byte> ReadValueBytes(ref MessagePackReader reader)
    {
        var start = reader.Position;
        reader.Skip();
        return reader.Sequence.Slice(start, reader.Position).ToArray();
    }

    private static JsonException Mismatch(MessagePackReader reader, string expected) =>
        new($"Expected {expected}, got MessagePack {reader.NextMessagePackType}.");
}

internal static class JsonSerializerOptionsExtensions
{
    /// <summary>The nesting the options allow (64 when MaxDepth is 0).</summary>
    public static int EffectiveMaxDepth(this JsonSerializerOptions options) => options.MaxDepth > 0 ? options.MaxDepth : 64;
}
