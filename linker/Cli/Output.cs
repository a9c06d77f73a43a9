using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FedMesh.Linker;

/// <summary>Writes what a command found: a table for people, JSON or YAML for scripts.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly ISerializer Yaml = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .DisableAliases()
        .Build();

    public static string ToJson(object value) => JsonSerializer.Serialize(value, value.GetType(), Json);

    public static string ToYaml(object value) => Yaml.Serialize(value);

    /// <summary>Writes <paramref name="data"/> as JSON or YAML, or renders <paramref name="table"/> for people.</summary>
    public static void Write(OutputFormat format, object data, Func<Table> table)
    {
        switch (format)
        {
            case OutputFormat.Json: Console.Out.WriteLine(ToJson(data)); break;
            case OutputFormat.Yaml: Console.Out.Write(ToYaml(data)); break;
            default: Render(table()); break;
        }
    }

    /// <summary>A console that writes plain text when output is not a terminal (scripts, golden files).</summary>
    public static IAnsiConsole Terminal { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = System.Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = System.Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        Interactive = System.Console.IsOutputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
        Out = new AnsiConsoleOutput(System.Console.Out),
    });

    private static void Render(Table table)
    {
        if (System.Console.IsOutputRedirected) Terminal.Profile.Width = 200;
        Terminal.Write(table);
    }

    /// <summary>A borderless, kubectl-like table.</summary>
    public static Table Plain(params string[] columns)
    {
        var table = new Table().NoBorder().HideRowSeparators();
        foreach (var c in columns) table.AddColumn(new TableColumn(c).PadLeft(0).PadRight(3));
        return table;
    }

    public static string Age(string? timestamp, TimeProvider time)
    {
        if (!DateTimeOffset.TryParse(timestamp, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)) return "-";
        var age = time.GetUtcNow() - t;
        return age.TotalDays >= 1 ? $"{(int)age.TotalDays}d" : age.TotalHours >= 1 ? $"{(int)age.TotalHours}h" : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m" : $"{Math.Max(0, (int)age.TotalSeconds)}s";
    }
}

internal static class TableExtensions
{
    /// <summary>Adds a row of plain text cells (no markup interpretation).</summary>
    public static Table Row(this Table table, params string?[] cells)
    {
        var row = new Spectre.Console.Rendering.IRenderable[cells.Length];
        for (var i = 0; i < cells.Length; i++) row[i] = new Text(cells[i] ?? "-");
        return table.AddRow(row);
    }
}
