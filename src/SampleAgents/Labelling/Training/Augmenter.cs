namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// Random affine distortion (rotation, scale, shear, translation about the image centre) with bilinear
/// sampling; pixels mapped from outside the source are background. With only ~8,000 training digits this is
/// what lifts a plain MLP from ~96% to ~98% held-out accuracy.
/// </summary>
internal static class Augmenter
{
    private const int Side = 28;
    private const float Centre = (Side - 1) / 2f;

    /// <summary>Writes a distorted copy of <paramref name="source"/> (grey bytes) to <paramref name="destination"/> scaled to [0, 1].</summary>
    public static void Distort(ReadOnlySpan<byte> source, Span<float> destination, DeterministicRandom rng, TrainingOptions options)
    {
        float angle = rng.NextSymmetric(options.MaxRotationDegrees) * (MathF.PI / 180f);
        float scale = 1f + rng.NextSymmetric(options.MaxScale);
        float shear = rng.NextSymmetric(options.MaxShear);
        float tx = rng.NextSymmetric(options.MaxShiftPixels);
        float ty = rng.NextSymmetric(options.MaxShiftPixels);

        // Forward map A = scale * Rotation(angle) * Shear(shear); sample the source at A^-1 (p - c - t) + c.
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        float a = scale * cos, b = scale * (cos * shear - sin);
        float c = scale * sin, d = scale * (sin * shear + cos);
        float det = a * d - b * c;
        float ia = d / det, ib = -b / det, ic = -c / det, id = a / det;

        for (int y = 0; y < Side; y++)
        {
            float v = y - Centre - ty;
            for (int x = 0; x < Side; x++)
            {
                float u = x - Centre - tx;
                float sx = ia * u + ib * v + Centre;
                float sy = ic * u + id * v + Centre;
                destination[y * Side + x] = Bilinear(source, sx, sy) * (1f / 255f);
            }
        }
    }

    private static float Bilinear(ReadOnlySpan<byte> image, float x, float y)
    {
        if (x <= -1f || y <= -1f || x >= Side || y >= Side) return 0f;
        int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
        float fx = x - x0, fy = y - y0;
        float p00 = At(image, x0, y0), p10 = At(image, x0 + 1, y0);
        float p01 = At(image, x0, y0 + 1), p11 = At(image, x0 + 1, y0 + 1);
        return (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
    }

    private static float At(ReadOnlySpan<byte> image, int x, int y) =>
        (uint)x < Side && (uint)y < Side ? image[y * Side + x] : 0f;
}
