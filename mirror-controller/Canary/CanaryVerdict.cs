namespace FedMesh.MirrorController.Canary;

internal enum CheckOutcome { Pass, Fail, NoData }

/// <summary>One check of a canary: its outcome and, for people, what was measured and which check failed.</summary>
internal sealed record CanaryVerdict(CheckOutcome Outcome, string Summary)
{
    public bool Passed => Outcome == CheckOutcome.Pass;
}
