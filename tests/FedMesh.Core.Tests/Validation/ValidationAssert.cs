using FedMesh.Core.Resources;
using FedMesh.Core.Validation;

namespace FedMesh.Core.Tests.Validation;

internal static class ValidationAssert
{
    public static void Valid(Resource r) => Assert.Empty(ResourceValidator.Validate(r));

    /// <summary>The resource breaks exactly the rules at <paramref name="paths"/> (each once).</summary>
    public static IReadOnlyList<ValidationError> Invalid(Resource r, params string[] paths)
    {
        var errors = ResourceValidator.Validate(r);
        Assert.Equal(paths.Order().ToArray(), errors.Select(e => e.Path).Order().ToArray());
        return errors;
    }
}
