using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Aicp.SampleAgents.Labelling.Training;

/// <summary>
/// Single-precision matrix products for the trainer, row-major: <c>C[M,N] (+)= A[M,K] · B[K,N]</c>.
/// System.Numerics.Tensors has element-wise kernels and dot products but no matrix product, and a dot product per
/// output element is bound by its two loads per multiply-add; this kernel keeps a 4 x 16 block of C in eight
/// vector registers and feeds each loaded row of B to four fused multiply-adds. Single-threaded and deterministic:
/// every element of C is summed over k in ascending order, whatever the shapes.
/// </summary>
internal static class Gemm
{
    /// <summary><c>C = A · B</c>, or <c>C += A · B</c> when <paramref name="accumulate"/> is set.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Spans too small for [{m}x{k}]·[{k}x{n}].");
        }

        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            Rows4(ref ar, ref br, ref cr, i, k, n, accumulate);
        }

        for (; i < m; i++)
        {
            Row1(ref ar, ref br, ref cr, i, k, n, accumulate);
        }
    }

    /// <summary>Writes the transpose of <paramref name="source"/> [rows x cols] to <paramref name="destination"/> [cols x rows].</summary>
    public static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int cols)
    {
        const int block = 16;
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int r1 = Math.Min(rows, r0 + block);
            for (int c0 = 0; c0 < cols; c0 += block)
            {
                int c1 = Math.Min(cols, c0 + block);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        destination[c * rows + r] = source[r * cols + c];
                    }
                }
            }
        }
    }

    private static void Rows4(ref float ar, ref float br, ref float cr, int i, int k, int n, bool accumulate)
    {
        nuint a0 = (nuint)(i * k), a1 = a0 + (nuint)k, a2 = a1 + (nuint)k, a3 = a2 + (nuint)k;
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            nuint bp = (nuint)j;
            for (nuint p = 0; p < (nuint)k; p++, bp += (nuint)n)
            {
                Vector256<float> b0 = Vector256.LoadUnsafe(ref br, bp), b1 = Vector256.LoadUnsafe(ref br, bp + 8);
                Vector256<float> x = Vector256.Create(At(ref ar, a0 + p));
                c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
                c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
                x = Vector256.Create(At(ref ar, a1 + p));
                c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
                c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
                x = Vector256.Create(At(ref ar, a2 + p));
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
                x = Vector256.Create(At(ref ar, a3 + p));
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            }

            Store(ref cr, (nuint)(i * n + j), c00, accumulate);
            Store(ref cr, (nuint)(i * n + j + 8), c01, accumulate);
            Store(ref cr, (nuint)((i + 1) * n + j), c10, accumulate);
            Store(ref cr, (nuint)((i + 1) * n + j + 8), c11, accumulate);
            Store(ref cr, (nuint)((i + 2) * n + j), c20, accumulate);
            Store(ref cr, (nuint)((i + 2) * n + j + 8), c21, accumulate);
            Store(ref cr, (nuint)((i + 3) * n + j), c30, accumulate);
            Store(ref cr, (nuint)((i + 3) * n + j + 8), c31, accumulate);
        }

        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            nuint bp = (nuint)j;
            for (nuint p = 0; p < (nuint)k; p++, bp += (nuint)n)
            {
                Vector256<float> b0 = Vector256.LoadUnsafe(ref br, bp);
                c0 = Vector256.FusedMultiplyAdd(Vector256.Create(At(ref ar, a0 + p)), b0, c0);
                c1 = Vector256.FusedMultiplyAdd(Vector256.Create(At(ref ar, a1 + p)), b0, c1);
                c2 = Vector256.FusedMultiplyAdd(Vector256.Create(At(ref ar, a2 + p)), b0, c2);
                c3 = Vector256.FusedMultiplyAdd(Vector256.Create(At(ref ar, a3 + p)), b0, c3);
            }

            Store(ref cr, (nuint)(i * n + j), c0, accumulate);
            Store(ref cr, (nuint)((i + 1) * n + j), c1, accumulate);
            Store(ref cr, (nuint)((i + 2) * n + j), c2, accumulate);
            Store(ref cr, (nuint)((i + 3) * n + j), c3, accumulate);
        }

        for (; j + 4 <= n; j += 4)
        {
            Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default;
            nuint bp = (nuint)j;
            for (nuint p = 0; p < (nuint)k; p++, bp += (nuint)n)
            {
                Vector128<float> b0 = Vector128.LoadUnsafe(ref br, bp);
                c0 = Vector128.FusedMultiplyAdd(Vector128.Create(At(ref ar, a0 + p)), b0, c0);
                c1 = Vector128.FusedMultiplyAdd(Vector128.Create(At(ref ar, a1 + p)), b0, c1);
                c2 = Vector128.FusedMultiplyAdd(Vector128.Create(At(ref ar, a2 + p)), b0, c2);
                c3 = Vector128.FusedMultiplyAdd(Vector128.Create(At(ref ar, a3 + p)), b0, c3);
            }

            Store(ref cr, (nuint)(i * n + j), c0, accumulate);
            Store(ref cr, (nuint)((i + 1) * n + j), c1, accumulate);
            Store(ref cr, (nuint)((i + 2) * n + j), c2, accumulate);
            Store(ref cr, (nuint)((i + 3) * n + j), c3, accumulate);
        }

        for (; j < n; j++)
        {
            for (int r = 0; r < 4; r++)
            {
                ScalarElement(ref ar, ref br, ref cr, i + r, j, k, n, accumulate);
            }
        }
    }

    private static void Row1(ref float ar, ref float br, ref float cr, int i, int k, int n, bool accumulate)
    {
        nuint a0 = (nuint)(i * k);
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> c0 = default, c1 = default;
            nuint bp = (nuint)j;
            for (nuint p = 0; p < (nuint)k; p++, bp += (nuint)n)
            {
                Vector256<float> x = Vector256.Create(At(ref ar, a0 + p));
                c0 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref br, bp), c0);
                c1 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref br, bp + 8), c1);
            }

            Store(ref cr, (nuint)(i * n + j), c0, accumulate);
            Store(ref cr, (nuint)(i * n + j + 8), c1, accumulate);
        }

        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> c0 = default;
            nuint bp = (nuint)j;
            for (nuint p = 0; p < (nuint)k; p++, bp += (nuint)n)
            {
                c0 = Vector256.FusedMultiplyAdd(Vector256.Create(At(ref ar, a0 + p)), Vector256.LoadUnsafe(ref br, bp), c0);
            }

            Store(ref cr, (nuint)(i * n + j), c0, accumulate);
        }

        for (; j < n; j++)
        {
            ScalarElement(ref ar, ref br, ref cr, i, j, k, n, accumulate);
        }
    }

    private static void ScalarElement(ref float ar, ref float br, ref float cr, int i, int j, int k, int n, bool accumulate)
    {
        float sum = 0f;
        for (int p = 0; p < k; p++)
        {
            sum = MathF.FusedMultiplyAdd(At(ref ar, (nuint)(i * k + p)), At(ref br, (nuint)(p * n + j)), sum);
        }

        ref float target = ref System.Runtime.CompilerServices.Unsafe.Add(ref cr, (nint)(i * n + j));
        target = accumulate ? target + sum : sum;
    }

    private static float At(ref float origin, nuint offset) => System.Runtime.CompilerServices.Unsafe.Add(ref origin, offset);

    private static void Store(ref float cr, nuint offset, Vector256<float> value, bool accumulate)
    {
        if (accumulate)
        {
            value += Vector256.LoadUnsafe(ref cr, offset);
        }

        value.StoreUnsafe(ref cr, offset);
    }

    private static void Store(ref float cr, nuint offset, Vector128<float> value, bool accumulate)
    {
        if (accumulate)
        {
            value += Vector128.LoadUnsafe(ref cr, offset);
        }

        value.StoreUnsafe(ref cr, offset);
    }
}
