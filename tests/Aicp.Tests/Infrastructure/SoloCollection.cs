namespace Aicp.Tests.Infrastructure;

/// <summary>
/// Tests that load the whole machine (floods, fuzzing) run alone, after the parallel ones, so they neither
/// starve the other tests' bounded waits nor have their memory and timing figures disturbed by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoloCollection
{
    public const string Name = "solo";
}
