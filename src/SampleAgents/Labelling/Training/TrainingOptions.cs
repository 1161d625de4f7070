namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// Hyper-parameters of <see cref="CnnTrainer"/> and <see cref="MlpTrainer"/>. Defaults are the recipe behind the
/// shipped model (models/digits.onnx).
/// </summary>
internal sealed class TrainingOptions
{
    /// <summary>Filters of the two convolutions (CNN). The default is 32 and 64.</summary>
    public int[] Channels { get; init; } = [32, 64];

    /// <summary>Hidden dense layer widths: the CNN uses the first, the MLP all. The default is one layer of 128.</summary>
    public int[] HiddenSizes { get; init; } = [128];

    /// <summary>Probability of dropping a hidden dense unit while training (CNN). The default is 0.</summary>
    public float Dropout { get; init; }

    /// <summary>Passes over the training split. The default is 30.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Mini-batch size. The default is 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak learning rate, decayed to zero by a cosine schedule. The default is 0.05.</summary>
    public float LearningRate { get; init; } = 0.05f;

    /// <summary>SGD momentum. The default is 0.9.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>L2 weight decay on weights (not biases). The default is 1e-4.</summary>
    public float WeightDecay { get; init; } = 1e-4f;

    /// <summary>Seed for initial weights, shuffling and augmentation. The default is 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Random affine distortion of every training image. The default is on.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Largest translation in pixels, each axis. The default is 2.</summary>
    public float MaxShiftPixels { get; init; } = 2f;

    /// <summary>Largest rotation in degrees. The default is 12.</summary>
    public float MaxRotationDegrees { get; init; } = 12f;

    /// <summary>Largest relative change of scale. The default is 0.1 (90%..110%).</summary>
    public float MaxScale { get; init; } = 0.1f;

    /// <summary>Largest horizontal shear factor. The default is 0.2.</summary>
    public float MaxShear { get; init; } = 0.2f;

    /// <summary>Worker threads for the matrix work. Results do not depend on it. The default is the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    public IEnumerable<string> Validate()
    {
        if (HiddenSizes.Length == 0 || HiddenSizes.Any(h => h is < 1 or > 4096)) yield return "hidden sizes must be 1..4096 and at least one layer";
        if (Channels.Length != 2 || Channels.Any(c => c is < 1 or > 256)) yield return "channels must be two widths within 1..256";
        if (Dropout is < 0 or >= 1) yield return "dropout must be in [0, 1)";
        if (Epochs < 1) yield return "epochs must be >= 1";
        if (BatchSize < 1) yield return "batch size must be >= 1";
        if (LearningRate <= 0) yield return "learning rate must be > 0";
        if (Momentum is < 0 or >= 1) yield return "momentum must be in [0, 1)";
        if (WeightDecay < 0) yield return "weight decay must be >= 0";
        if (MaxDegreeOfParallelism < 1) yield return "parallelism must be >= 1";
    }
}
