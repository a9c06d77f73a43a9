using System.Globalization;

namespace FedMesh.Core.Yaml;

/// <summary>Which CLR types are scalars, lists or maps, and whether a scalar fits a scalar type.</summary>
internal static class ScalarChecks
{
    public static bool IsScalarType(Type type)
        => type == typeof(string) || type == typeof(int) || type == typeof(long) || type == typeof(double)
           || type == typeof(bool) || type.IsEnum;

    public static Type? ListElement(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(List<>) || d == typeof(IList<>) || d == typeof(IReadOnlyList<>))
            ? type.GetGenericArguments()[0] : type.IsArray ? type.GetElementType() : null;

    public static Type? DictionaryValue(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>))
           && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1] : null;

    public static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type));
        if (ListElement(type) is not null) return "a list";
        return "a mapping";
    }

    /// <summary>Null when <paramref name="scalar"/> fits <paramref name="type"/>, else what is wrong.</summary>
    public static string? Check(YamlTreeScalar scalar, Type type)
    {
        if (type == typeof(string))
            return null;
        var hint = scalar.IsQuoted ? "; remove the quotes" : "";
        var v = scalar.Value;
        if (type == typeof(int) || type == typeof(long))
        {
            if (scalar.IsQuoted || !long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                return $"expected an integer, got {scalar.Describe()}{hint}";
            if (type == typeof(int) && n is < int.MinValue or > int.MaxValue)
                return $"{v} is too large for an integer field";
            return null;
        }
        if (type == typeof(double))
            return !scalar.IsQuoted && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)
                ? null : $"expected a number, got {scalar.Describe()}{hint}";
        if (type == typeof(bool))
            return !scalar.IsQuoted && v is "true" or "false" or "True" or "False" or "TRUE" or "FALSE"
                ? null : $"expected true or false, got {scalar.Describe()}{hint}";
        if (type.IsEnum)
            return Enum.GetNames(type).Any(n => string.Equals(n, v, StringComparison.OrdinalIgnoreCase))
                ? null : $"expected one of {string.Join(", ", Enum.GetNames(type))}, got {scalar.Describe()}";
        return $"expected {Describe(type)}, got {scalar.Describe()}";
    }
}
