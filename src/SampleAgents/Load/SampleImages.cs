namespace Aicp.SampleAgents.Load;

/// <summary>Payloads for <c>image.label</c>: small synthetic images, different per task index.</summary>
internal static class SampleImages
{
    public static object Payload(int index)
    {
        var pixels = new byte[784];
        var seed = (uint)(index * 2654435761u);
        for (var i = 0; i < pixels.Length; i++)
        {
            seed = seed * 1664525u + 1013904223u;
            pixels[i] = (byte)(seed >> 24);
        }

        return new { image = Convert.ToBase64String(pixels), topK = 3 };
    }
}
