using System.Security.Cryptography;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// Task ids: 128 random bits as 32 lowercase hex characters (the shape of a GUID's "N" format), unique across the nodes
/// of a cluster without coordination. The bits come from the cryptographic generator in blocks of 64 ids per thread:
/// <see cref="Guid.NewGuid"/> reads the kernel's generator once per id, a system call on every task.
/// </summary>
internal static class TaskIds
{
    private const int IdBytes = 16;
    private const int BlockBytes = 64 * IdBytes;

    [ThreadStatic] private static byte[]? t_block;
    [ThreadStatic] private static int t_used;

    public static string New()
    {
        var block = t_block;
        if (block is null)
        {
            t_block = block = new byte[BlockBytes];
            t_used = BlockBytes;
        }

        if (t_used == BlockBytes)
        {
            RandomNumberGenerator.Fill(block);
            t_used = 0;
        }

        var id = Convert.ToHexStringLower(block, t_used, IdBytes);
        t_used += IdBytes;
        return id;
    }
}
