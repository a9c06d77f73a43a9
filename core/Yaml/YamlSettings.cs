using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FedMesh.Core.Yaml;

/// <summary>The one configuration of YamlDotNet and System.Text.Json the codec uses (built once, thread-safe).</summary>
internal static class YamlSettings
{
    public static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithTypeInspector(inner => new FieldOrderTypeInspector(inner))
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithQuotingNecessaryStrings()
        .WithIndentedSequences()
        .DisableAliases()
        .Build();

    public static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OnlyResourceFields } },
    };

    /// <summary>Resources print as their YAML fields only (no computed Name/Namespace), in the YAML order.</summary>
    private static void OnlyResourceFields(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !typeof(Resources.Resource).IsAssignableFrom(info.Type))
            return;
        var members = YamlMembers.Of(info.Type);
        var kept = info.Properties.Where(p => members.Any(m => m.Name == p.Name)).ToList();
        info.Properties.Clear();
        foreach (var p in kept)
        {
            p.Order = members.ToList().FindIndex(m => m.Name == p.Name);
            info.Properties.Add(p);
        }
    }
}
