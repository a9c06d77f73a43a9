using System.Collections.Concurrent;
using System.Reflection;
using YamlDotNet.Serialization.NamingConventions;

namespace FedMesh.Core.Yaml;

/// <summary>A field of a YAML-mapped class: its camelCase name, property and whether null is allowed.</summary>
internal sealed record YamlMember(string Name, PropertyInfo Property, bool Nullable);

/// <summary>
/// The fields the codec reads and writes for a type: public properties with a getter and a setter,
/// base class first then in declaration order (so apiVersion, kind, metadata come before spec, status).
/// Computed properties such as <c>Resource.Name</c> are not fields.
/// </summary>
internal static class YamlMembers
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<YamlMember>> Cache = new();
    private static readonly NullabilityInfoContext Nullability = new();

    public static IReadOnlyList<YamlMember> Of(Type type) => Cache.GetOrAdd(type, Build);

    private static IReadOnlyList<YamlMember> Build(Type type)
    {
        var members = new List<(int Depth, int Token, YamlMember Member)>();
        var index = 0;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // Metadata tokens give declaration order; compiled ahead of time (the native sidecar) there
            // are none, and reflection already lists the properties in declaration order.
            var order = p.HasMetadataToken() ? p.MetadataToken : index++;
            if (p.GetMethod is not { IsPublic: true } || p.SetMethod is not { IsPublic: true } || p.GetIndexParameters().Length > 0)
                continue;
            bool nullable;
            lock (Nullability)
                nullable = Nullable.GetUnderlyingType(p.PropertyType) is not null
                           || (!p.PropertyType.IsValueType && Nullability.Create(p).WriteState != NullabilityState.NotNull);
            members.Add((Depth(p.DeclaringType!), order, new YamlMember(CamelCaseNamingConvention.Instance.Apply(p.Name), p, nullable)));
        }
        return members.OrderBy(m => m.Depth).ThenBy(m => m.Token).Select(m => m.Member).ToArray();
    }

    private static int Depth(Type type)
    {
        var depth = 0;
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            depth++;
        return depth;
    }
}
