namespace FedMesh.Core.Validation;

/// <summary>Collects every error of one resource, with the path of the field being looked at.</summary>
internal sealed class ValidationCollector
{
    private readonly List<ValidationError> _errors = new();

    public IReadOnlyList<ValidationError> Errors => _errors;

    public void Add(string path, string message) => _errors.Add(new ValidationError(path, message));

    public static string Join(string parent, string field) => parent.Length == 0 ? field : parent + "." + field;

    public static string Index(string parent, int index) => $"{parent}[{index}]";
}
